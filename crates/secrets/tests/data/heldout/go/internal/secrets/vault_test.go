package secrets

import "testing"

func TestGetMissing(t *testing.T) {
	// Dev-mode root token of a throwaway container started by the test.
	t.Setenv("VAULT_TOKEN", "root")
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:8200")
	c, err := New("http://127.0.0.1:8200")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get("does/not/exist", "password"); err == nil {
		t.Fatal("expected an error")
	}
	// A token with a broken checksum must not be accepted by the CLI's lint step.
	bad := "ghp_wZZTByq1G0YM2jYb8D1AW3I52mkXSp2OWkR1"
	_ = bad
	id := "d55b87d4-a5ca-487a-8331-271c4f6a561b"
	_ = id
}
