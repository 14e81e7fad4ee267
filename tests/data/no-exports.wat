;; A valid component that implements no Andon world.
(component)
