package provider

import (
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// The catalog omits empty values, so an empty string or list would read back as null
// and Terraform would report an inconsistent result. Optional values are therefore
// either set to something or left out; these helpers map between the two worlds.

// float64OrNull is null for 0: the catalog's "not set".
func float64OrNull(f float64) types.Float64 {
	if f == 0 {
		return types.Float64Null()
	}
	return types.Float64Value(f)
}

func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func int64OrNull(n int) types.Int64 {
	if n == 0 {
		return types.Int64Null()
	}
	return types.Int64Value(int64(n))
}

func stringsOrNil(ss []string) []types.String {
	if len(ss) == 0 {
		return nil
	}
	out := make([]types.String, len(ss))
	for i, s := range ss {
		out[i] = types.StringValue(s)
	}
	return out
}

func fromStrings(vs []types.String) []string {
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ValueString()
	}
	return out
}

// attributePath turns a catalog field path (spec.trigger.matchers[0]) into the
// resource attribute path (trigger.matchers[0]). renames maps catalog prefixes that
// the schema flattens, such as spec.selector.matchers -> selector.
func attributePath(field string, renames map[string]string) path.Path {
	if field == "metadata.name" {
		return path.Root("name")
	}
	field = strings.TrimPrefix(field, "spec.")
	for from, to := range renames {
		if field == from || strings.HasPrefix(field, from+".") || strings.HasPrefix(field, from+"[") {
			field = to + field[len(from):]
			break
		}
	}
	var p path.Path
	first := true
	for _, seg := range strings.Split(field, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		if first {
			p = path.Root(name)
			first = false
		} else {
			p = p.AtName(name)
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			if n, err := strconv.Atoi(idx); err == nil {
				p = p.AtListIndex(n)
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return p
}

// addDocumentErrors reports catalog validation errors on the attributes they concern.
func addDocumentErrors(diags *diag.Diagnostics, errs runbooks.Errors, renames map[string]string) {
	for _, e := range errs {
		if e.Field == "" || e.Field == "apiVersion" || e.Field == "kind" {
			diags.AddError("Invalid document", e.Msg)
			continue
		}
		// The path is in the text too: Terraform cannot always point at the line of an
		// element inside a nested attribute.
		p := attributePath(e.Field, renames)
		diags.AddAttributeError(p, "Invalid "+lastSegment(e.Field), p.String()+": "+e.Msg)
	}
}

func lastSegment(field string) string {
	if i := strings.LastIndex(field, "."); i >= 0 {
		field = field[i+1:]
	}
	if i := strings.Index(field, "["); i >= 0 {
		field = field[:i]
	}
	return strings.ReplaceAll(field, "_", " ")
}
