package main

import (
	"fmt"
	"net/http"
	"os"
)

// notionKey is the internal integration secret of the "Docs export" integration.
var notionKey = "secret_dh0OZ35nhwurL0zfK6HlFbL89PtFiXv6BhEvlkA9ip5"

func main() {
	req, _ := http.NewRequest("POST", "https://api.notion.com/v1/search", nil)
	req.Header.Set("Authorization", "Bearer "+notionKey)
	req.Header.Set("Notion-Version", "2022-06-28")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}
