;; A step any node can run (no skill): doubles its input.
(module
  (func (export "double") (param $x f64) (result f64)
    (f64.mul (local.get $x) (f64.const 2))))
