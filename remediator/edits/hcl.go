package edits

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// editHCL sets an attribute in an HCL file (.tf, .tfvars) with hclwrite, which keeps
// every other token, comment and alignment as written. The path names blocks by type
// and labels, then the attribute: resource.aws_autoscaling_group.api.max_size, or
// just replicas in a .tfvars file.
func editHCL(src []byte, path string, compute func(any) (any, error)) ([]byte, any, any, error) {
	steps, err := runbooks.SplitValuePath(path)
	if err != nil {
		return nil, nil, nil, err
	}
	f, diags := hclwrite.ParseConfig(src, "file", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, nil, fmt.Errorf("parse HCL: %s", diags.Error())
	}
	body := f.Body()
	keys := make([]string, len(steps))
	for i, s := range steps {
		if s.IsIndex {
			return nil, nil, nil, fmt.Errorf("list indexes are not supported in HCL paths")
		}
		keys[i] = s.Key
	}
	for len(keys) > 1 {
		block, rest := findBlock(body, keys)
		if block == nil {
			return nil, nil, nil, fmt.Errorf("no block %q with matching labels", keys[0])
		}
		body, keys = block.Body(), rest
	}
	attr := body.GetAttribute(keys[0])
	if attr == nil {
		return nil, nil, nil, fmt.Errorf("no attribute %q", keys[0])
	}
	current, err := literal(attr)
	if err != nil {
		return nil, nil, nil, err
	}
	val, err := compute(current)
	if err != nil {
		return nil, nil, nil, err
	}
	ctyVal, err := toCty(val)
	if err != nil {
		return nil, nil, nil, err
	}
	if sameValue(current, val) {
		return src, current, val, nil
	}
	body.SetAttributeValue(keys[0], ctyVal)
	return f.Bytes(), current, val, nil
}

// findBlock finds the block of type keys[0] whose labels are the keys that follow.
func findBlock(body *hclwrite.Body, keys []string) (*hclwrite.Block, []string) {
	rest := keys[1:]
	for _, b := range body.Blocks() {
		if b.Type() != keys[0] {
			continue
		}
		labels := b.Labels()
		if len(labels) >= len(rest) {
			continue // the attribute name must remain after the labels
		}
		match := true
		for i, l := range labels {
			if rest[i] != l {
				match = false
				break
			}
		}
		if match {
			return b, rest[len(labels):]
		}
	}
	return nil, nil
}

// literal reads an attribute's current value; only literals can be computed from.
func literal(attr *hclwrite.Attribute) (any, error) {
	expr, diags := hclsyntax.ParseExpression(attr.Expr().BuildTokens(nil).Bytes(), "value", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse current value: %s", diags.Error())
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return nil, fmt.Errorf("the current value is an expression, not a literal: a remediation only edits literal values")
	}
	switch v.Type() {
	case cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				return i, nil
			}
		}
		f, _ := bf.Float64()
		return f, nil
	case cty.String:
		return v.AsString(), nil
	case cty.Bool:
		return v.True(), nil
	}
	return nil, fmt.Errorf("the current value is a %s: only numbers, strings and bools can be edited", v.Type().FriendlyName())
}

func toCty(v any) (cty.Value, error) {
	switch x := v.(type) {
	case int64:
		return cty.NumberIntVal(x), nil
	case float64:
		return cty.NumberFloatVal(x), nil
	case string:
		return cty.StringVal(x), nil
	case bool:
		return cty.BoolVal(x), nil
	}
	return cty.NilVal, fmt.Errorf("cannot write a %T", v)
}

// sameValue compares values across int and float, so 4 and 4.0 are the same.
func sameValue(a, b any) bool {
	fa, aNum := asFloat(a)
	fb, bNum := asFloat(b)
	if aNum && bNum {
		return fa == fb
	}
	return a == b
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
