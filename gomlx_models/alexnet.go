package models

func init() {
	Register("alexnet", func() Model {
		return &arch{name: "alexnet", dataset: "fashion-mnist", input: [3]int{1, 227, 227}, classes: 10, build: alexNetFeatures, head: alexNetClassifier, chain: true}
	})
}

// alexNetFeatures and alexNetClassifier are the authors' fasion_mnist_alexnet
// (docs/method.md §1.4): conv1 11×11/4 96 + max-pool 3/2, conv2 5×5 p2 256 + max-pool,
// conv3..conv5 3×3 p1 (384, 384, 256) + max-pool; fc1 9216→4096, fc2 4096→4096, fc3 4096→10,
// log_softmax. The two functional dropouts (p=0.5) are active in training and, as in the
// authors' evaluation, with Mode.LegacyDropout.
func alexNetFeatures(m *net, x act) act {
	x = m.input(x)
	x = m.conv(x, "conv1.0", k(1, 96, 11, 11).s(4).withBias().maxPool(3, 2), true)
	x = m.conv(x, "conv2.0", k(96, 256, 5, 5).p(2, 2).withBias().maxPool(3, 2), true)
	x = m.conv(x, "conv3.0", k(256, 384, 3, 3).p(1, 1).withBias(), true)
	x = m.conv(x, "conv4.0", k(384, 384, 3, 3).p(1, 1).withBias(), true)
	x = m.conv(x, "conv5.0", k(384, 256, 3, 3).p(1, 1).withBias().maxPool(3, 2), true)
	return m.flatten(x)
}

func alexNetClassifier(m *net, x act) act {
	drop := m.mode.Training || m.mode.LegacyDropout
	x = m.dropout(m.linear(x, "fc1", 256*6*6, 4096, true), 0.5, drop)
	x = m.dropout(m.linear(x, "fc2", 4096, 4096, true), 0.5, drop)
	return m.logSoftmax(m.linear(x, "fc3", 4096, 10, false))
}
