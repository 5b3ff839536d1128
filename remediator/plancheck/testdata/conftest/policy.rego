# The limits plan-check applies, written for conftest: the peer of `make bench`.
# Same rules as remediator/plancheck/check.go, with the limits of the benchmark's
# artifact written in.
package main

allowed_addresses := ["module.app*.terraform_data.web*", "module.app*.terraform_data.api*"]

allowed_actions := {"create", "update"}

denied_types := ["aws_iam_*"]

max_changes := 20000

changes contains rc if {
	some rc in input.resource_changes
	not rc.change.actions == ["no-op"]
	not rc.change.actions == ["read"]
}

action(rc) := "replace" if {
	count(rc.change.actions) == 2
} else := rc.change.actions[0]

address_allowed(addr) if {
	some p in allowed_addresses
	glob.match(p, [], addr)
}

deny contains msg if {
	some rc in changes
	not address_allowed(rc.address)
	msg := sprintf("%s: undeclared-resource", [rc.address])
}

deny contains msg if {
	some rc in changes
	not action(rc) in allowed_actions
	msg := sprintf("%s: action-not-allowed: %s", [rc.address, action(rc)])
}

deny contains msg if {
	some rc in changes
	action(rc) in {"delete", "replace"}
	msg := sprintf("%s: destroy-not-allowed", [rc.address])
}

deny contains msg if {
	some rc in changes
	some p in denied_types
	glob.match(p, [], rc.type)
	msg := sprintf("%s: denied-resource-type", [rc.address])
}

deny contains msg if {
	count(changes) > max_changes
	msg := sprintf("max-changes: %d", [count(changes)])
}
