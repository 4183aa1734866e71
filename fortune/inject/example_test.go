package inject_test

import (
	"fmt"

	"github.com/fortune-go/fortune/fortune/inject"
)

// A trial flips F = ⌊BER·n⌋ bits, where n = N·W counts every stored bit exposed to faults. For
// ResNet-18 stored as P-4 (the authors' N = 10,992,320 weights, W = 4 + 2 = 6 bits each) at a
// bit error rate of 1e-4, that is 6,595 faults per trial (docs/method.md §5.2).
func ExampleCount() {
	n := int64(10_992_320) * 6
	f, err := inject.Count(1e-4, n)
	if err != nil {
		panic(err)
	}
	fmt.Println(n, f)

	// A BER outside (0, 1] is an error, not zero faults.
	_, err = inject.Count(0, n)
	fmt.Println(err)
	// Output:
	// 65953920 6595
	// inject: bit error rate 0 out of range (0, 1]
}

// ParsePlacement reads the placement names used on the command line; String gives them back.
func ExampleParsePlacement() {
	for _, name := range []string{"distinct", "legacy", "uniform"} {
		p, err := inject.ParsePlacement(name)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(p, p == inject.Legacy)
	}
	// Output:
	// distinct false
	// legacy true
	// inject: unknown placement "uniform" (want distinct, replacement, legacy or bernoulli)
}
