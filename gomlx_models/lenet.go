package models

func init() {
	Register("lenet5", func() Model {
		return &arch{name: "lenet5", dataset: "fashion-mnist", input: [3]int{1, 28, 28}, classes: 10,
			build: func(m *net, x act) act { return leNet5Features(m, x, 1, 2) }, head: leNet5Classifier, chain: true}
	})
	Register("lenet5_cifar", func() Model {
		return &arch{name: "lenet5_cifar", dataset: "cifar10", input: [3]int{3, 32, 32}, classes: 10,
			build: func(m *net, x act) act { return leNet5Features(m, x, 3, 0) }, head: leNet5Classifier, chain: true}
	})
}

// leNet5Features and leNet5Classifier are this project's LeNet-5 (not in the paper): conv1 6@5×5 (padding pad: 2 for 28×28
// inputs, so the geometry is the classic 32×32 one), ReLU, avg-pool 2/2, conv2 16@5×5, ReLU,
// avg-pool 2/2, fc1 400→120, ReLU, fc2 120→84, ReLU, fc3 84→10 (logits).
//
// It uses average pooling because the pure-Go backend (compute v0.1.2) does not implement
// SelectAndScatter, the gradient of max pooling: with max-pool it could not train there.
func leNet5Features(m *net, x act, inChannels, pad int) act {
	x = m.input(x)
	x = m.avgPool(m.conv(x, "conv1", k(inChannels, 6, 5, 5).p(pad, pad).withBias(), true), 2, 2, 0)
	x = m.avgPool(m.conv(x, "conv2", k(6, 16, 5, 5).withBias(), true), 2, 2, 0)
	return m.flatten(x)
}

func leNet5Classifier(m *net, x act) act {
	x = m.linear(x, "fc1", 16*5*5, 120, true)
	x = m.linear(x, "fc2", 120, 84, true)
	return m.linear(x, "fc3", 84, 10, false)
}
