package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"

	"github.com/digitalocean/godo"
	"github.com/google/go-github/v66/github"
	_ "github.com/lib/pq"
)

const (
	githubToken = "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"
	doToken     = "dop_v1_5b6df7e16c76c77db5964a8a5fc2449258f07cf02d6c7d94590923f64fe6647d"
	// Image digest pinned by the release job.
	baseImage = "ghcr.io/acme/deployer@sha256:94e14b7361897a18d27ae391a87d8c861a6d3f741a2f03d49f842117fa56852b"
)

var dsn = "host=db.internal port=5432 user=deployer password=v=hB0gVq73NcemMiVx dbname=deploys sslmode=require"

func main() {
	ctx := context.Background()
	gh := github.NewClient(nil).WithAuthToken(githubToken)
	do := godo.NewFromToken(doToken)

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		log.Fatalf("open db: %v", err)
	}
	defer db.Close()

	release, _, err := gh.Repositories.GetLatestRelease(ctx, "acme", "storefront")
	if err != nil {
		log.Fatal(err)
	}
	droplets, _, err := do.Droplets.ListByTag(ctx, "storefront", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range droplets {
		fmt.Printf("deploying %s to %s\n", release.GetTagName(), d.Name)
	}
	if os.Getenv("DRY_RUN") != "" {
		return
	}
	_, err = db.ExecContext(ctx, "INSERT INTO deploys(tag, image) VALUES ($1, $2)", release.GetTagName(), baseImage)
	if err != nil {
		log.Fatal(err)
	}
}
