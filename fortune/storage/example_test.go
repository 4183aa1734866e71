package storage_test

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/fortune-go/fortune/fortune/backend"
	"github.com/fortune-go/fortune/fortune/storage"
)

// Parse reads the variant labels of the paper's tables. P-4 stores a 4-bit code plus two extra
// copies of its MSB, so W = 6 of each word's bits are memory exposed to faults.
func ExampleParse() {
	s, err := storage.Parse("P-4")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Name(), s.StoredBits())
	// Output: P-4 6
}

// A P-4 word holds the 4-bit code in bits 0…3 and two copies of its MSB (bit 3) in bits 4 and 5.
// A fault on one of the three MSB copies is outvoted by the other two when the word is decoded.
func ExampleTripleMSB() {
	p4 := storage.TripleMSB{Bits: 4}
	words := MustExecOnceN(backend.Go(), func(codes *Node) []*Node {
		stored := p4.Encode(codes)
		// Flip bit 3, the code's own MSB: the copies in bits 4 and 5 still hold a 1.
		faulty := BitwiseXor(stored, Scalar(codes.Graph(), dtypes.Uint8, 1<<3))
		return []*Node{stored, faulty, p4.Decode(faulty)}
	}, []uint8{0b1010})
	for i, label := range []string{"stored", "faulty", "decoded"} {
		fmt.Printf("%-7s %08b\n", label, tensors.MustCopyFlatData[uint8](words[i])[0])
	}
	// Output:
	// stored  00111010
	// faulty  00110010
	// decoded 00001010
}

// WordError gives the probability that a word decodes to a wrong code when each stored bit
// flips independently with probability p. For P-4 almost only the three unprotected low bits
// count (≈ 3p); U-4 exposes all four bits (≈ 4p).
func ExampleWordError() {
	for _, label := range []string{"U-4", "P-4"} {
		s, err := storage.Parse(label)
		if err != nil {
			panic(err)
		}
		wrong, _, err := storage.WordError(s, 1e-3)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s %.3g\n", s.Name(), wrong)
	}
	// Output:
	// U-4 0.00399
	// P-4 0.003
}
