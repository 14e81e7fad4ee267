;; A component that imports an instance under the Andon types name but with a
;; function inside: a capability smuggled behind an allowed name. Refused at load.
(component
  (import "andon:policy/types@0.1.0" (instance
    (export "now" (func (result u64)))
  ))
)
