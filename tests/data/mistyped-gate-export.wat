;; A component that imports the Andon types like a real guest and exports the gate
;; interface under its right name, but with `check: func() -> u32` instead of
;; `check: func(request: request) -> gate-verdict`. Refused at load, naming the
;; export and the function.
(component
  (import "andon:policy/types@0.1.0" (instance
    (type $severity (enum "low" "medium" "high" "critical"))
    (export "severity" (type (eq $severity)))
  ))
  (core module $m
    (func (export "check") (result i32) i32.const 0)
  )
  (core instance $i (instantiate $m))
  (func $check (result u32) (canon lift (core func $i "check")))
  (instance $gate (export "check" (func $check)))
  (export "andon:policy/policy-gate@0.1.0" (instance $gate))
)
