;; A component that asks for the wall clock: the host must refuse it at load,
;; naming the import, before anything runs.
(component
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance
    (export "now" (func (result u64)))
  ))
)
