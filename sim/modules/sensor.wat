;; Thermometer step (needs skill dht): reads the temperature, in Celsius.
(module
  (import "dht" "getTemperature" (func $temperature (result f32)))
  (func (export "temp") (result f64)
    call $temperature
    f64.promote_f32))
