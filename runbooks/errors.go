package runbooks

import (
	"fmt"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/strictyaml"
)

// Error is one problem in a catalog document, located as precisely as is known.
type Error = strictyaml.Error

// Errors is every problem found in one or more documents.
type Errors = strictyaml.Errors

// fieldErrors collects validation problems by field path.
type fieldErrors struct {
	errs Errors
}

func (f *fieldErrors) add(field, format string, args ...any) {
	f.errs = append(f.errs, &Error{Field: field, Msg: fmt.Sprintf(format, args...)})
}
