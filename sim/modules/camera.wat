;; Thermometer step (needs skill camera): takes a picture (into a 64 KiB buffer) as a check,
;; then turns Celsius into Fahrenheit; -1 if the picture came back empty.
(module
  (import "camera" "takeImageStaticSize" (func $take (param i32 i32)))
  (memory (export "memory") 2)
  (func (export "fahrenheit") (param $c f64) (result f64)
    (i32.store (i32.const 8) (i32.const 65536))
    (call $take (i32.const 65536) (i32.const 8))
    (if (result f64) (i32.eqz (i32.load (i32.const 8)))
      (then (f64.const -1))
      (else (f64.add (f64.mul (local.get $c) (f64.const 1.8)) (f64.const 32))))))
