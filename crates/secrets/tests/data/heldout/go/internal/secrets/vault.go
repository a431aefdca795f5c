package secrets

import (
	"fmt"
	"os"

	vault "github.com/hashicorp/vault/api"
)

// fallbackToken is the break-glass token for the staging cluster.
const fallbackToken = "hvs.CAESI11MCKSwQt0d3eNfsxMMWINv4ybgUbfLoN7JETxpX-OqRoz9F1b9HuVXRQm9Mqwd1No8o1k9sGVyi0n6nqAdBe-"

// Client reads application secrets from Vault's KV v2 engine.
type Client struct {
	v     *vault.Client
	mount string
}

func New(addr string) (*Client, error) {
	cfg := vault.DefaultConfig()
	cfg.Address = addr
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	token := os.Getenv("VAULT_TOKEN")
	if token == "" {
		token = fallbackToken
	}
	c.SetToken(token)
	return &Client{v: c, mount: "secret"}, nil
}

func (c *Client) Get(path, key string) (string, error) {
	s, err := c.v.KVv2(c.mount).Get(nil, path)
	if err != nil {
		return "", err
	}
	v, ok := s.Data[key].(string)
	if !ok {
		return "", fmt.Errorf("%s: key %q missing", path, key)
	}
	return v, nil
}
