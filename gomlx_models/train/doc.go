// Package train trains any [models.Model] from scratch with GoMLX and measures its accuracy.
//
// Training ([Train]) is a small loop over one compiled graph (graph.Exec) whose inputs and
// outputs are the explicit state: every parameter in the model's order, the SGD momentum
// buffers, the batch, the learning rate and a dropout RNG state. It implements PyTorch's
// recipe: default initialization ([InitParams]), mean cross-entropy, SGD with momentum and
// weight decay, a cosine learning-rate schedule, batch-norm running statistics from
// Forward's newStats, host-side CIFAR augmentation ([Augment]). All randomness is derived
// from Config.Seed and the epoch or step number, so a run is reproducible and a run resumed
// from its checkpoint (weights, momentum buffers, step; written atomically) ends with the same
// bits as an uninterrupted one.
//
// # Evaluation
//
// [Evaluate] returns the number of correctly classified examples, batched, on any backend.
// [Evaluator] compiles the evaluation graph once and evaluates many parameter sets; its
// [RewriteFn] replaces parameters by values computed inside the graph from extra inputs (e.g.
// faulty, dequantized weights).
//
// # Calling Forward inside your own graph
//
// A model is a pure function of its parameters, so a caller (the fault-injection campaign)
// builds its own graph by passing the parameter tensors as the leading Exec arguments and
// pairing the nodes with the model's parameter list:
//
//	specs := model.Params()
//	params, _ := train.ParamTensors(model, ckpt) // []*tensors.Tensor in specs' order
//	exec, _ := graph.NewExec(backend, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
//		p := train.ParamNodes(specs, in[:len(specs)])
//		x, mask := in[len(specs)], in[len(specs)+1]
//		p["fc.weight"] = faulty(p["fc.weight"], mask) // any graph computation
//		logits, _ := model.Forward(p, x, models.Mode{})
//		return []*graph.Node{graph.ArgMax(logits, -1)}
//	})
//	args := append(anySlice(params), xTensor, maskTensor)
//	out, _ := exec.Call(args...)
//
// The same parameter tensors can be passed to every call: they are transferred to the device
// once and reused.
package train
