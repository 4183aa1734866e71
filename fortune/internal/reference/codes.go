package reference

import "math/bits"

// Erased is the code the decoders of the error-detecting schemes (PAR-w, SECDED-w) return for a
// word whose error they detected but could not correct; the reader dequantizes it to 0
// (docs/method.md §12.2).
const Erased uint8 = 0x80

// low returns the mask of bits 0…n−1.
func low(n int) uint8 { return uint8(1<<n - 1) }

// parity returns 1 when x has an odd number of set bits.
func parity(x uint8) uint8 { return uint8(bits.OnesCount8(x) & 1) }

// EncodeParity stores the w data bits of c in bits 0…w−1 and their even parity in bit w (PAR-w).
func EncodeParity(c uint8, w int) uint8 {
	d := c & low(w)
	return d | parity(d)<<w
}

// DecodeParity returns the data bits of a PAR-w word, or Erased when bits 0…w have odd parity.
// Bits above w are ignored.
func DecodeParity(s uint8, w int) uint8 {
	x := s & low(w+1)
	if parity(x) != 0 {
		return Erased
	}
	return x & low(w)
}

// hammingDataPos are the positions, in the classic Hamming(7,4) numbering 1…7, of data bits
// 0…3: the positions that are not powers of two. Check bit j sits at position 2^j.
var hammingDataPos = [4]int{3, 5, 6, 7}

// hammingPos returns the Hamming position of bit b of a SEC-w word (data in bits 0…w−1, check j
// in bit w+j).
func hammingPos(b, w int) int {
	if b < w {
		return hammingDataPos[b]
	}
	return 1 << (b - w)
}

// EncodeHamming stores the w data bits of c (w = 2…4) in bits 0…w−1 and the three Hamming check
// bits in bits w…w+2, chosen so that the XOR of the positions of all set bits is 0; with
// extended, bit w+3 is the even parity of bits 0…w+2 (SEC-w, SECDED-w; docs/method.md §12.1).
func EncodeHamming(c uint8, w int, extended bool) uint8 {
	d := c & low(w)
	syn := 0
	for i := range w {
		if d>>i&1 == 1 {
			syn ^= hammingDataPos[i]
		}
	}
	word := d | uint8(syn)<<w // Check j is set exactly when bit j of syn is.
	if extended {
		word |= parity(word) << (w + 3)
	}
	return word
}

// DecodeHamming decodes a SEC-w (or, with extended, SECDED-w) word by the textbook rule: the
// syndrome is the XOR of the positions of the set bits among bits 0…w+2, and a non-zero syndrome
// names the bit to flip. SEC-w flips it when such a bit exists (a syndrome no bit has, possible
// only in the shortened codes w < 4, leaves the word as it is). SECDED-w also computes the
// parity of bits 0…w+3: even with a non-zero syndrome is a detected double error, and odd with
// a syndrome no bit has is a detected triple error: both return Erased. Bits above the stored
// ones are ignored; the result is the w data bits.
func DecodeHamming(s uint8, w int, extended bool) uint8 {
	n := w + 3
	x := s & low(n)
	syn := 0
	for b := range n {
		if x>>b&1 == 1 {
			syn ^= hammingPos(b, w)
		}
	}
	bit := -1
	for b := range n {
		if syn != 0 && hammingPos(b, w) == syn {
			bit = b
		}
	}
	if extended {
		odd := parity(s&low(n+1)) == 1
		switch {
		case !odd && syn != 0:
			return Erased
		case odd && syn != 0 && bit < 0:
			return Erased
		}
	}
	if bit >= 0 {
		x ^= 1 << bit
	}
	return x & low(w)
}

// EncodeTMR stores three copies of the w-bit code c at bits 0…w−1, w…2w−1 and 2w…3w−1 (TMR-w).
func EncodeTMR(c uint8, w int) uint8 {
	d := c & low(w)
	return d | d<<w | d<<(2*w)
}

// DecodeTMR sets each data bit i when at least two of the three copies have bit i set.
func DecodeTMR(s uint8, w int) uint8 {
	var q uint8
	for i := range w {
		votes := 0
		for k := range 3 {
			votes += int(s >> (k*w + i) & 1)
		}
		if votes >= 2 {
			q |= 1 << i
		}
	}
	return q
}
