package models

func init() {
	Register("inception_v3", func() Model {
		return &arch{name: "inception_v3", dataset: "cifar10", input: [3]int{3, 32, 32}, classes: 10,
			build: inceptionV3, layerList: inceptionLayerList}
	})
}

// inceptionV3 is huyvnphan's Inception-v3 for CIFAR-10 (docs/method.md §1.5): the v3 stem cut to
// one BasicConv 3→192 3×3/1/1, then Mixed_5b..5d (InceptionA), 6a (B), 6b..6e (C), 7a (D), 7b, 7c
// (E), adaptive avg-pool, dropout (identity in eval), fc 2048→10. Spatial sizes 32, 15, 7.
func inceptionV3(m *net, x act) act {
	x = m.input(x)
	x = basicConv(m, x, "Conv2d_1a_3x3", k(3, 192, 3, 3).p(1, 1))
	x = inceptionA(m, x, "Mixed_5b", 192, 32)
	x = inceptionA(m, x, "Mixed_5c", 256, 64)
	x = inceptionA(m, x, "Mixed_5d", 288, 64)
	x = inceptionB(m, x, "Mixed_6a", 288)
	x = inceptionC(m, x, "Mixed_6b", 768, 128)
	x = inceptionC(m, x, "Mixed_6c", 768, 160)
	x = inceptionC(m, x, "Mixed_6d", 768, 160)
	x = inceptionC(m, x, "Mixed_6e", 768, 192)
	x = inceptionD(m, x, "Mixed_7a", 768)
	x = inceptionE(m, x, "Mixed_7b", 1280)
	x = inceptionE(m, x, "Mixed_7c", 2048)
	x = m.dropout(m.globalAvgPool(x), 0.5, m.mode.Training)
	return m.linear(x, "fc", 2048, 10, false)
}

// basicConv is BasicConv2d: conv (no bias) → BN(eps 0.001) → ReLU.
func basicConv(m *net, x act, name string, c convSpec) act {
	return m.convBN(x, name+".conv", name+".bn", c, 0.001, true)
}

// inceptionA: [1×1 64 | 1×1 48 → 5×5 64 | 1×1 64 → 3×3 96 → 3×3 96 | avg-pool 3/1/1 → 1×1 pf].
func inceptionA(m *net, x act, name string, in, poolFeatures int) act {
	b1 := basicConv(m, x, name+".branch1x1", k(in, 64, 1, 1))

	b5 := basicConv(m, x, name+".branch5x5_1", k(in, 48, 1, 1))
	b5 = basicConv(m, b5, name+".branch5x5_2", k(48, 64, 5, 5).p(2, 2))

	b3 := basicConv(m, x, name+".branch3x3dbl_1", k(in, 64, 1, 1))
	b3 = basicConv(m, b3, name+".branch3x3dbl_2", k(64, 96, 3, 3).p(1, 1))
	b3 = basicConv(m, b3, name+".branch3x3dbl_3", k(96, 96, 3, 3).p(1, 1))

	bp := basicConv(m, m.avgPool(x, 3, 1, 1), name+".branch_pool", k(in, poolFeatures, 1, 1))
	return m.cat(b1, b5, b3, bp)
}

// inceptionB: [3×3/2 384 | 1×1 64 → 3×3 96 → 3×3/2 96 | max-pool 3/2].
func inceptionB(m *net, x act, name string, in int) act {
	b3 := basicConv(m, x, name+".branch3x3", k(in, 384, 3, 3).s(2))

	bd := basicConv(m, x, name+".branch3x3dbl_1", k(in, 64, 1, 1))
	bd = basicConv(m, bd, name+".branch3x3dbl_2", k(64, 96, 3, 3).p(1, 1))
	bd = basicConv(m, bd, name+".branch3x3dbl_3", k(96, 96, 3, 3).s(2))

	return m.cat(b3, bd, m.maxPool(x, 3, 2, 0))
}

// inceptionC: [1×1 192 | 1×1 c7 → 1×7 c7 → 7×1 192 | 1×1 c7 → 7×1 → 1×7 → 7×1 → 1×7 192 |
// avg-pool 3/1/1 → 1×1 192], every 1×7 / 7×1 "same"-padded.
func inceptionC(m *net, x act, name string, in, c7 int) act {
	b1 := basicConv(m, x, name+".branch1x1", k(in, 192, 1, 1))

	b7 := basicConv(m, x, name+".branch7x7_1", k(in, c7, 1, 1))
	b7 = basicConv(m, b7, name+".branch7x7_2", k(c7, c7, 1, 7).p(0, 3))
	b7 = basicConv(m, b7, name+".branch7x7_3", k(c7, 192, 7, 1).p(3, 0))

	bd := basicConv(m, x, name+".branch7x7dbl_1", k(in, c7, 1, 1))
	bd = basicConv(m, bd, name+".branch7x7dbl_2", k(c7, c7, 7, 1).p(3, 0))
	bd = basicConv(m, bd, name+".branch7x7dbl_3", k(c7, c7, 1, 7).p(0, 3))
	bd = basicConv(m, bd, name+".branch7x7dbl_4", k(c7, c7, 7, 1).p(3, 0))
	bd = basicConv(m, bd, name+".branch7x7dbl_5", k(c7, 192, 1, 7).p(0, 3))

	bp := basicConv(m, m.avgPool(x, 3, 1, 1), name+".branch_pool", k(in, 192, 1, 1))
	return m.cat(b1, b7, bd, bp)
}

// inceptionD: [1×1 192 → 3×3/2 320 | 1×1 192 → 1×7 → 7×1 → 3×3/2 192 | max-pool 3/2].
func inceptionD(m *net, x act, name string, in int) act {
	b3 := basicConv(m, x, name+".branch3x3_1", k(in, 192, 1, 1))
	b3 = basicConv(m, b3, name+".branch3x3_2", k(192, 320, 3, 3).s(2))

	b7 := basicConv(m, x, name+".branch7x7x3_1", k(in, 192, 1, 1))
	b7 = basicConv(m, b7, name+".branch7x7x3_2", k(192, 192, 1, 7).p(0, 3))
	b7 = basicConv(m, b7, name+".branch7x7x3_3", k(192, 192, 7, 1).p(3, 0))
	b7 = basicConv(m, b7, name+".branch7x7x3_4", k(192, 192, 3, 3).s(2))

	return m.cat(b3, b7, m.maxPool(x, 3, 2, 0))
}

// inceptionE: [1×1 320 | 1×1 384 → {1×3 384, 3×1 384} | 1×1 448 → 3×3 384 → {1×3 384, 3×1 384} |
// avg-pool 3/1/1 → 1×1 192].
func inceptionE(m *net, x act, name string, in int) act {
	b1 := basicConv(m, x, name+".branch1x1", k(in, 320, 1, 1))

	b3 := basicConv(m, x, name+".branch3x3_1", k(in, 384, 1, 1))
	b3 = m.cat(
		basicConv(m, b3, name+".branch3x3_2a", k(384, 384, 1, 3).p(0, 1)),
		basicConv(m, b3, name+".branch3x3_2b", k(384, 384, 3, 1).p(1, 0)))

	bd := basicConv(m, x, name+".branch3x3dbl_1", k(in, 448, 1, 1))
	bd = basicConv(m, bd, name+".branch3x3dbl_2", k(448, 384, 3, 3).p(1, 1))
	bd = m.cat(
		basicConv(m, bd, name+".branch3x3dbl_3a", k(384, 384, 1, 3).p(0, 1)),
		basicConv(m, bd, name+".branch3x3dbl_3b", k(384, 384, 3, 1).p(1, 0)))

	bp := basicConv(m, m.avgPool(x, 3, 1, 1), name+".branch_pool", k(in, 192, 1, 1))
	return m.cat(b1, b3, bd, bp)
}

// inceptionLayerList is the authors' Inception layer_list for data width bits: the 8-bit
// driver's list for the 8-bit baseline, the 91 layers once (the 4- and 5-bit drivers' list) for
// the other widths. all is the 91 layers in Params() order, which is the 4/5-bit drivers' order
// (docs/method.md Appendix A).
func inceptionLayerList(all []string, bits int) []string {
	if bits == 8 {
		return inception8BitLayerList(all)
	}
	return all
}

// inception8BitLayerList is the Inception 8-bit driver's layer_list (docs/method.md §1.7, §10.17):
// the 91 weights plus a second copy of Mixed_5b.branch5x5_1 and of Mixed_5c.branch5x5_1 (93
// entries). The authors' list (Inception/8-bit/Inception-q-normal00001.py) puts each copy right
// after that block's branch5x5_2, i.e.
// [..., branch5x5_1, branch5x5_2, branch5x5_1, branch3x3dbl_1, ...];
// the order matters only for reproducing the driver's random.choice draws.
func inception8BitLayerList(all []string) []string {
	dups := map[string]string{
		"Mixed_5b.branch5x5_2.conv.weight": "Mixed_5b.branch5x5_1.conv.weight",
		"Mixed_5c.branch5x5_2.conv.weight": "Mixed_5c.branch5x5_1.conv.weight",
	}
	names := make([]string, 0, len(all)+len(dups))
	for _, n := range all {
		names = append(names, n)
		if d, ok := dups[n]; ok {
			names = append(names, d)
		}
	}
	return names
}
