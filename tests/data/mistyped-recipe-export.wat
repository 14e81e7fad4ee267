;; A component that exports the recipe interface under its right name, but whose
;; `plan` takes a `u32` and returns nothing. Refused at load, naming the export
;; and the function.
(component
  (import "andon:policy/types@0.1.0" (instance
    (type $severity (enum "low" "medium" "high" "critical"))
    (export "severity" (type (eq $severity)))
  ))
  (core module $m
    (func (export "plan") (param i32))
  )
  (core instance $i (instantiate $m))
  (func $plan (param "request" u32) (canon lift (core func $i "plan")))
  (instance $recipe (export "plan" (func $plan)))
  (export "andon:policy/remediation-recipe@0.1.0" (instance $recipe))
)
