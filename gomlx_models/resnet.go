package models

import (
	"fmt"
	"strings"
)

func init() {
	Register("resnet18", func() Model {
		return &arch{name: "resnet18", dataset: "cifar10", input: [3]int{3, 32, 32}, classes: 10,
			build: resnet18, legacy: withoutDownsample}
	})
}

// resnet18 is huyvnphan's resnet18 for CIFAR-10 (docs/method.md §1.3): stem conv 3×3/1 → BN →
// ReLU → max-pool 3/2/1, four stages of two BasicBlocks (64, 128/2, 256/2, 512/2), adaptive
// avg-pool, fc 512→10.
func resnet18(m *net, x act) act {
	x = m.input(x)
	x = m.convBN(x, "conv1", "bn1", k(3, 64, 3, 3).p(1, 1), 1e-5, true)
	x = m.maxPool(x, 3, 2, 1)
	in := 64
	for stage, planes := range []int{64, 128, 256, 512} {
		stride := 2
		if stage == 0 {
			stride = 1
		}
		x = basicBlock(m, x, fmt.Sprintf("layer%d.0", stage+1), in, planes, stride)
		x = basicBlock(m, x, fmt.Sprintf("layer%d.1", stage+1), planes, planes, 1)
		in = planes
	}
	return m.linear(m.globalAvgPool(x), "fc", 512, 10, false)
}

// basicBlock is ResNet's BasicBlock: conv3×3(stride) → BN → ReLU → conv3×3 → BN, plus the
// identity or, when the shape changes, downsample = conv1×1(stride) → BN; then ReLU.
func basicBlock(m *net, x act, name string, in, out, stride int) act {
	y := m.convBN(x, name+".conv1", name+".bn1", k(in, out, 3, 3).s(stride).p(1, 1), 1e-5, true)
	y = m.convBN(y, name+".conv2", name+".bn2", k(out, out, 3, 3).p(1, 1), 1e-5, false)
	identity := x
	if stride != 1 || in != out {
		identity = m.convBN(x, name+".downsample.0", name+".downsample.1", k(in, out, 1, 1).s(stride), 1e-5, false)
	}
	return m.relu(m.add(y, identity))
}

// withoutDownsample is the authors' ResNet layer_list: every conv/linear weight except the three
// downsample convolutions (docs/method.md §1.3, §1.7), which their code quantizes all the same but
// never faults or protects.
func withoutDownsample(all []string) []string {
	var names []string
	for _, n := range all {
		if !strings.Contains(n, ".downsample.") {
			names = append(names, n)
		}
	}
	return names
}
