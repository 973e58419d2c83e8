"""`mt.backends`: the CPU kernels' speed settings (in the spirit of torch.backends), one
place for all of them (kernels/policy.py holds them).

    mt.backends.get()                 the current settings, e.g. get().winograd_channels
    with mt.backends.flags(**changes): ...   a block with some settings changed, restored
                                      after it (also on an exception)
    mt.backends.set_flags(**changes)  change them for the rest of the process; returns the
                                      settings before

The settings are process-wide. A name not below is a TypeError, a value out of its range a
ValueError. They change how fast the kernels run and how float results round, not what is
computed; a backward pass follows the path its forward took.

    split_work (65536)          multiply-adds (m * n * k) from which a 2-D product is cut
                                over numba's threads; below it one BLAS call
    parallel_from (32768)       elements from which a flat loop (ReLU, an optimizer's update)
                                runs on numba's threads; below it on the calling thread
    winograd_channels (16)      input and output channels from which a 3x3 stride-1
                                convolution runs by Winograd (set it high to keep im2col and
                                the per-image products everywhere)
    winograd_pooled_tile (None) the tile side, 4 or 6, of the fused conv + ReLU + max-pool on
                                the Winograd path; None takes the one with fewer products
                                (4 keeps the composed ops' F(4x4) rounding)
    winograd_chunks (4)         parts of the batch, the Winograd kernels' parallel jobs
    winograd_block_rows (48)    tiles per block a Winograd job takes through while in cache
    winograd_part_tiles (16)    fewest tiles per part (fewer parts for small batches)
    winograd_filter_slices (8)  parallel jobs of the Winograd filter gradient
    image_pixel_taps (16)       per-image products with at most this many taps made pixel by
                                pixel: the fused 2x2 pool then runs along the channels
    image_chunks (8)            parts of the batch the per-image convolution's weight
                                gradient is summed in, in a fixed order
    conv_precision ("fast")     "fast" lets 3x3 stride-1 layers take Winograd (float32 errors
                                well above torch's, see README); "highest" keeps every
                                convolution on exact products, within torch's error
    fuse_conv_relu_pool (True)  a convolution followed by ReLU and a 2x2 max-pool, in either
                                order and however written, runs as one fused op (README);
                                False runs the three plain ops

What stays fixed (compile-time fastmath flags, the CUDA launch sizes, the thread pools'
environment) is listed in kernels/policy.py's docstring.
"""
from __future__ import annotations

from kernels.policy import Policy, get, update as set_flags, using as flags

__all__ = ["Policy", "flags", "get", "set_flags"]
