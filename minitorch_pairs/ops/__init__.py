"""The differentiable primitives, one Function class each, grouped by kind:

- elementwise: Add Sub Mul Div Neg Pow Exp Log Sqrt Abs Relu Tanh Sigmoid Selu Cast
- activations: LeakyRelu Elu Gelu Silu Softplus Hardtanh (relu6 is Hardtanh(0, 6))
- reduction:   Sum MaxAll MaxDim (mean is Sum scaled)
- shape_ops:   Reshape Permute GetItem Cat Clone (flatten, transpose, (un)squeeze, stack built on them)
- linalg:      MatMul Linear
- conv_pool:   Conv2d MaxPool2d AvgPool2d (numba kernels)
- normalization: BatchNorm (numba kernels), Dropout is a mask multiply
- losses:      LogSoftmax Softmax CrossEntropy BinaryCrossEntropyWithLogits
"""
