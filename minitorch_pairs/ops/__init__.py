"""The differentiable primitives, one Function class each, grouped by kind:

- elementwise:   Add Sub Mul Div Neg Pow Exp Log Sqrt Abs Relu Tanh Sigmoid Selu Cast
- pointwise:     the float functions (reciprocal ... atan), rounding, pow, atan2,
                 minimum/maximum/fmin/fmax
- division:      Remainder Fmod RoundedDivision FloorDivide
- logic:         Where; the comparisons and logic tests (outside the graph)
- activations:   LeakyRelu Elu Gelu Silu Softplus Hardtanh (relu6 is Hardtanh(0, 6))
- reduction:     Sum, and max/min/amax/amin/argmax/argmin (EvenSplit TakeAlong Extremum2)
- statistics:    Variance Prod CumSum CumProd LogSumExp VectorNorm; nansum, nanmean ...
- sorting:       sort argsort topk kthvalue median mode (on TakeAlong, EvenSplit)
- shape_ops:     Reshape Permute GetItem Cat Clone (flatten, transpose, (un)squeeze, stack)
- reshaping:     Expand Repeat RepeatEach Gather Flip Roll Triangle; tile, stacking
- views:         View; squeeze, movedim, t, narrow, split, chunk, unbind (views of the input)
- padding:       ConstantPad, and F.pad's reflect / replicate / circular (Gather)
- indexing:      gather, scatter, index_select, masked_select, one_hot
- linalg:        MatMul Linear AddMatMul; dot, outer, mm, bmm, mv, addmm, baddbmm
- contractions:  tensordot, einsum (built on permute, reshape, sum and matmul)
- conv_pool:     Conv2d MaxPool2d AvgPool2d (numba kernels); fusion defers a convolution
                 to fuse it with its ReLU and 2x2 max-pool
- conv_general:  Convolution TransposedConvolution (dilation, groups, 1-d, transposed)
- pooling_general: every pooling option, adaptive pooling, max_unpool2d
- resampling:    interpolate (nearest, linear modes, area)
- normalization: BatchNorm (numba kernels); layer_norms: LayerNorm GroupNorm
- embedding, channel_dropout: Embedding, dropout2d (Dropout is a mask multiply)
- losses, binary_losses, regression_losses: LogSoftmax Softmax CrossEntropy ClassNLL,
                 the binary cross-entropies, L1 / MSE / smooth L1 / Huber / KL / Poisson ...
"""
