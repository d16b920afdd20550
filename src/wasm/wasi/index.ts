export { Wasi, resolvePreopens, type WasiOptions, type Preopen } from './preview1.ts'
export { WasiExit } from './exit.ts'
export { WASI_PREVIEW1_SIGNATURES } from './signatures.ts'
