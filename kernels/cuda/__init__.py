"""CUDA kernels (numba.cuda): the same functions, names and arguments as kernels.cpu, on
device arrays, launched without host synchronisation. They run on a GPU or, with
NUMBA_ENABLE_CUDASIM=1, under numba's CUDA simulator (how CI exercises them).

Each takes numba device arrays or CudaArrays (what device tensors hold): a CudaArray goes in
as a view of its buffer, and a device array coming back (or each of a tuple's) comes out
as a CudaArray."""
import functools

from . import activation, batchnorm, conv, dropout, optim, pool, softmax
from .array import CudaArray


def _on_device_arrays(kernel):
    @functools.wraps(kernel)
    def call(*args):
        result = kernel(*(a.device_view() if isinstance(a, CudaArray) else a for a in args))
        if isinstance(result, tuple):
            return tuple(_as_cuda_array(part) for part in result)
        return _as_cuda_array(result)
    return call


def _as_cuda_array(result):
    if result is None or isinstance(result, CudaArray):
        return result
    return CudaArray(result.reshape(result.size), result.shape)


def matmul(a, b):
    """a @ b of CudaArrays (their matmul is kernels/cuda/gemm.py's)."""
    return a @ b


def matmul_pair(a, b, c, d):
    """(a @ b, c @ d): the CPU's two products at once; on the GPU one after the other."""
    return a @ b, c @ d


def linear_forward(x, weight, bias):
    """x @ weight.T + bias (bias may be None)."""
    out = x @ weight.T
    if bias is not None:
        out += bias
    return out


def linear_backward(grad, x, weight, needs):
    """The gradients of linear_forward that `needs` (x, weight, bias) asks for, None for the
    others."""
    return (grad @ weight if needs[0] else None, grad.T @ x if needs[1] else None,
            grad.sum(axis=0) if len(needs) == 3 and needs[2] else None)


relu_forward = _on_device_arrays(activation.relu_forward)
relu_backward = _on_device_arrays(activation.relu_backward)
batch_norm_train_forward = _on_device_arrays(batchnorm.batch_norm_train_forward)
batch_norm_eval_forward = _on_device_arrays(batchnorm.batch_norm_eval_forward)
batch_norm_backward = _on_device_arrays(batchnorm.batch_norm_backward)
conv2d_forward = _on_device_arrays(conv.conv2d_forward)
conv2d_backward = _on_device_arrays(conv.conv2d_backward)
conv2d_plan = conv.conv2d_plan
conv2d_relu_pool_forward = _on_device_arrays(conv.conv2d_relu_pool_forward)
conv2d_relu_pool_backward = _on_device_arrays(conv.conv2d_relu_pool_backward)
dropout_mask = _on_device_arrays(dropout.dropout_mask)
adam_step = _on_device_arrays(optim.adam_step)
sgd_step = _on_device_arrays(optim.sgd_step)
max_pool2d_forward = _on_device_arrays(pool.max_pool2d_forward)
max_pool2d_backward = _on_device_arrays(pool.max_pool2d_backward)
avg_pool2d_forward = _on_device_arrays(pool.avg_pool2d_forward)
avg_pool2d_backward = _on_device_arrays(pool.avg_pool2d_backward)
cross_entropy_forward = _on_device_arrays(softmax.cross_entropy_forward)
cross_entropy_backward = _on_device_arrays(softmax.cross_entropy_backward)
log_softmax_forward = _on_device_arrays(softmax.log_softmax_forward)
log_softmax_backward = _on_device_arrays(softmax.log_softmax_backward)

__all__ = ["avg_pool2d_backward", "avg_pool2d_forward", "batch_norm_backward",
           "batch_norm_eval_forward", "batch_norm_train_forward", "conv2d_backward",
           "conv2d_forward", "conv2d_plan", "conv2d_relu_pool_backward",
           "conv2d_relu_pool_forward",
           "cross_entropy_backward", "dropout_mask",
           "cross_entropy_forward", "log_softmax_backward", "log_softmax_forward",
           "linear_backward", "linear_forward", "matmul", "matmul_pair",
           "max_pool2d_backward", "max_pool2d_forward", "relu_backward", "relu_forward",
           "adam_step", "sgd_step"]
