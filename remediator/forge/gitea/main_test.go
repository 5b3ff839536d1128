package gitea_test

import (
	"os"
	"testing"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/giteatest"
)

// srv is the one real Gitea of this package's run.
var srv *giteatest.Server

func TestMain(m *testing.M) { os.Exit(giteatest.Main(m, &srv)) }
