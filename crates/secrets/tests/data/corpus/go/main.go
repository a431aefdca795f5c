package main

import (
	"database/sql"
	"log"
)

const githubToken = "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"
var doToken = "dop_v1_136682575250def91799e2786d3748421599e3e9c8fe21da80270815fe85df2f"
func main() {
	db, err := sql.Open("postgres", "postgres://app:wAvuQ#2kvA*74@db.internal:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
}
