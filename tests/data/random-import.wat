;; A component that asks for randomness: refused at load, naming the import.
(component
  (import "wasi:random/random@0.2.0" (instance
    (export "get-random-u64" (func (result u64)))
  ))
)
