//go:build goexperiment.simd

package backend

// simdBuild reports whether the binary was built with GOEXPERIMENT=simd, which gives the
// pure-Go backend its AVX2/AVX-512 MatMul kernels on amd64.
const simdBuild = true
