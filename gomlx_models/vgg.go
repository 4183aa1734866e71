package models

import (
	"fmt"
)

func init() {
	Register("vgg11", func() Model {
		return &arch{name: "vgg11", dataset: "cifar10", input: [3]int{3, 32, 32}, classes: 10, build: vgg11Features, head: vgg11Classifier, chain: true}
	})
}

// vgg11Config is VGG configuration "A": channels of the 3×3 convolutions, 0 = max-pool 2/2.
var vgg11Config = []int{64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}

// vgg11Features and vgg11Classifier are huyvnphan's vgg11_bn for CIFAR-10 (docs/method.md §1.2):
// features = [Conv3×3(+bias), BN, ReLU] per channel entry and MaxPool 2/2 per "M", numbered as
// nn.Sequential numbers them; then adaptive avg-pool 1×1 and the classifier Linear 512→4096,
// ReLU, Dropout, Linear 4096→4096, ReLU, Dropout, Linear 4096→10.
func vgg11Features(m *net, x act) act {
	x = m.input(x)
	idx, in, hw := 0, 3, 32
	for i, c := range vgg11Config {
		if c == 0 { // The max-pool, computed by the convolution before it (maxPool).
			idx++
			hw /= 2
			continue
		}
		spec := k(in, c, 3, 3).p(1, 1).withBias().at(hw, hw)
		if i+1 < len(vgg11Config) && vgg11Config[i+1] == 0 {
			spec = spec.maxPool(2, 2)
		}
		x = m.convBN(x, fmt.Sprintf("features.%d", idx), fmt.Sprintf("features.%d", idx+1), spec, 1e-5, true)
		idx += 3
		in = c
	}
	return m.globalAvgPool(x)
}

func vgg11Classifier(m *net, x act) act {
	x = m.dropout(m.linear(x, "classifier.0", 512, 4096, true), 0.5, m.mode.Training)
	x = m.dropout(m.linear(x, "classifier.3", 4096, 4096, true), 0.5, m.mode.Training)
	return m.linear(x, "classifier.6", 4096, 10, false)
}
