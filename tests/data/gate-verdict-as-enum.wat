;; A gate whose `check` has the right shape one level down but not deeper: the
;; request is a record with a single `incident-id: u32` field and the verdict is an
;; enum `pass | refuse` instead of the world's variant. Refused at load, naming the
;; parameter and what differs.
(component
  (import "andon:policy/types@0.1.0" (instance
    (type $severity (enum "low" "medium" "high" "critical"))
    (export "severity" (type (eq $severity)))
  ))
  (core module $m
    (func (export "check") (param i32) (result i32) i32.const 0)
  )
  (core instance $i (instantiate $m))
  (type $request' (record (field "incident-id" u32)))
  (export $request "request" (type $request'))
  (type $verdict' (enum "pass" "refuse"))
  (export $verdict "gate-verdict" (type $verdict'))
  (func $check (param "request" $request) (result $verdict) (canon lift (core func $i "check")))
  (instance $gate
    (export "request" (type $request))
    (export "gate-verdict" (type $verdict))
    (export "check" (func $check))
  )
  (export "andon:policy/policy-gate@0.1.0" (instance $gate))
)
