package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// DurationType is a string attribute holding a duration such as "15m". The catalog
// stores durations canonically ("90m" becomes "1h30m"); semantic equality keeps the
// spelling in the configuration from showing as a change.
type DurationType struct {
	basetypes.StringType
}

var (
	_ basetypes.StringTypable                    = DurationType{}
	_ basetypes.StringValuableWithSemanticEquals = DurationValue{}
	_ xattr.ValidateableAttribute                = DurationValue{}
)

func (t DurationType) String() string { return "provider.DurationType" }

func (t DurationType) ValueType(context.Context) attr.Value { return DurationValue{} }

func (t DurationType) Equal(o attr.Type) bool {
	other, ok := o.(DurationType)
	return ok && t.StringType.Equal(other.StringType)
}

func (t DurationType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return DurationValue{StringValue: in}, nil
}

func (t DurationType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return DurationValue{StringValue: s}, nil
}

// DurationValue is a value of DurationType.
type DurationValue struct {
	basetypes.StringValue
}

func (v DurationValue) Type(context.Context) attr.Type { return DurationType{} }

func (v DurationValue) Equal(o attr.Value) bool {
	other, ok := o.(DurationValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals treats two spellings of one duration as equal.
func (v DurationValue) StringSemanticEquals(_ context.Context, o basetypes.StringValuable) (bool, diag.Diagnostics) {
	other, ok := o.(DurationValue)
	if !ok {
		return false, nil
	}
	a, errA := runbooks.ParseDuration(v.ValueString())
	b, errB := runbooks.ParseDuration(other.ValueString())
	return errA == nil && errB == nil && a == b, nil
}

// ValidateAttribute rejects what is not a duration, at validate time.
func (v DurationValue) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	d, err := runbooks.ParseDuration(v.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration", err.Error())
		return
	}
	if d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration", fmt.Sprintf("%q is not a positive duration: omit the attribute instead of setting it to zero", v.ValueString()))
	}
}

// NewDurationValue holds a known duration in canonical spelling.
func NewDurationValue(d runbooks.Duration) DurationValue {
	return DurationValue{StringValue: basetypes.NewStringValue(d.String())}
}

// NullDuration is an absent duration.
func NullDuration() DurationValue {
	return DurationValue{StringValue: basetypes.NewStringNull()}
}

// durationOrNull maps the zero duration, which the catalog omits, to null.
func durationOrNull(d runbooks.Duration) DurationValue {
	if d == 0 {
		return NullDuration()
	}
	return NewDurationValue(d)
}

// parseDuration reads a known duration; null is zero.
func parseDuration(v DurationValue) runbooks.Duration {
	if v.IsNull() || v.IsUnknown() {
		return 0
	}
	d, _ := runbooks.ParseDuration(v.ValueString())
	return d
}
