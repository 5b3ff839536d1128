package github

import "testing"

// The App's installation tokens are asked where go-github sends every other request:
// github.com's API host as it is, a GitHub Enterprise Server under /api/v3.
func TestAPIBase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://api.github.com", "https://api.github.com"},
		{"https://api.github.com/", "https://api.github.com"},
		{"https://api.acme.ghe.com", "https://api.acme.ghe.com"},
		{"https://ghe.example.com", "https://ghe.example.com/api/v3"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v3"},
	} {
		if got := apiBase(tc.in); got != tc.want {
			t.Errorf("apiBase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
