;; A core module, not a component: refused as an invalid component.
(module
  (func (export "check") (result i32) i32.const 0)
)
