"""Advanced indexing on CudaArrays (integer and boolean index arrays, mixed with integers and
slices), with NumPy's result layout: `a[key]` gathers, `a[key] = v` scatters, and
`np.add.at(a, key, v)` adds with atomics so that repeated indices add up (getitem's backward).

The key becomes one device array of buffer positions, in the result's shape, built from
broadcast per-dimension contributions with the elementwise kernels; one kernel then moves
the data. Integer index arrays already on the device stay there (no host sync); boolean masks
need their True count, so a device mask is copied to the host (a sync, as in torch).
Device index arrays are not bounds-checked (that would need a sync): out-of-range positions
read 0 and write nothing.
"""
from __future__ import annotations

import numbers

import numpy as np
from numba import cuda

from .launch import THREADS, blocks


@cuda.jit
def _arange(start, step, out):
    first, stride = cuda.grid(1), cuda.gridsize(1)
    for k in range(first, out.size, stride):
        out[k] = start + k * step


def arange(start: int, step: int, count: int):
    """start, start + step, ... (count int64 values), made on the device (no upload)."""
    from .array import CudaArray
    out = CudaArray.empty((count,), np.int64)
    if count:
        _arange[blocks(count), THREADS](start, step, out.buffer)
    return out


@cuda.jit
def _gather(source, positions, limit, out):
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, positions.size, step):
        at = positions[k]
        out[k] = source[at] if 0 <= at < limit else 0


@cuda.jit
def _scatter(values, positions, limit, target, add):
    """target[positions] = values, or += with atomics (repeated positions add up)."""
    start, step = cuda.grid(1), cuda.gridsize(1)
    for k in range(start, positions.size, step):
        at = positions[k]
        if 0 <= at < limit:
            if add:
                cuda.atomic.add(target, at, values[k])
            else:
                target[at] = values[k]


def is_advanced(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return any(not isinstance(p, (numbers.Integral, slice, type(None), type(Ellipsis)))
               for p in parts)


def _index_arrays(array, key) -> list:
    """The key with Ellipsis expanded, boolean masks turned into integer arrays (one per dim
    they cover), integer arrays as int64 CudaArrays, and trailing slices filled in."""
    from .array import CudaArray
    parts = list(key) if isinstance(key, tuple) else [key]
    covered = sum(1 if not hasattr(p, "dtype") or p.dtype.kind != "b" else p.ndim
                  for p in parts if p is not Ellipsis)
    out = []
    for part in parts:
        if part is Ellipsis:
            out += [slice(None)] * (array.ndim - covered)
        elif isinstance(part, (list, np.ndarray, CudaArray)):
            host = np.asarray(part) if not isinstance(part, CudaArray) else None
            dtype = part.dtype if host is None else host.dtype
            if dtype.kind == "b":  # a mask: its True positions, one integer array per dim
                mask = host if host is not None else part.get()
                dim = len(out)
                if mask.shape != array.shape[dim:dim + mask.ndim]:
                    raise IndexError(f"boolean index of shape {mask.shape} does not match "
                                     f"dims {array.shape[dim:dim + mask.ndim]}")
                out += [CudaArray.from_host(i) for i in np.nonzero(mask)]
            elif dtype.kind in "iu":
                if host is not None:
                    size = array.shape[len(out)]
                    if host.size and (host.min() < -size or host.max() >= size):
                        raise IndexError(f"index {host[(host < -size) | (host >= size)][0]} is "
                                         f"out of bounds for axis {len(out)} with size {size}")
                    out.append(CudaArray.from_host(host.astype(np.int64)))
                else:
                    out.append(part.astype(np.int64, copy=False))
            else:
                raise IndexError(f"arrays used as indices must be of integer or boolean type, "
                                 f"got {dtype}")
        elif isinstance(part, (numbers.Integral, slice)):
            out.append(part)
        else:
            raise TypeError(f"CudaArray: unsupported index {part!r}")
    if len(out) > array.ndim:
        raise IndexError(f"too many indices ({len(out)}) for an array of shape {array.shape}")
    return out + [slice(None)] * (array.ndim - len(out))


def positions(array, key):
    """A device int64 array, in the shape NumPy gives array[key], of the buffer positions
    of the selected elements."""
    from .array import CudaArray, scalar_array
    parts = _index_arrays(array, key)
    advanced = [d for d, p in enumerate(parts) if not isinstance(p, slice)]
    broadcast = np.broadcast_shapes(*(parts[d].shape for d in advanced
                                      if isinstance(parts[d], CudaArray)))
    together = advanced == list(range(advanced[0], advanced[-1] + 1))
    first = advanced[0] if together else 0  # where the broadcast dims go in the result
    sliced = [d for d, p in enumerate(parts) if isinstance(p, slice)]
    before = [d for d in sliced if d < first] if together else []
    after = [d for d in sliced if d not in before]
    lengths = {d: len(range(*parts[d].indices(array.shape[d]))) for d in sliced}
    shape = tuple(lengths[d] for d in before) + broadcast + tuple(lengths[d] for d in after)

    def placed(values, at, width):  # values laid along result dims [at, at + width)
        return values.reshape((1,) * at + values.shape + (1,) * (len(shape) - at - width))

    total = scalar_array(array.offset, (np.int64(0),))
    for d, part in enumerate(parts):
        size, stride = array.shape[d], array.strides[d]
        if isinstance(part, slice):
            start, _, step = part.indices(size)
            at = before.index(d) if d in before else \
                len(before) + len(broadcast) + after.index(d)
            steps = arange(start * stride, step * stride, lengths[d])
            total = total + placed(steps, at, 1)
        elif isinstance(part, CudaArray):
            wrapped = part + (part < 0) * size  # negative indices count from the end
            total = total + placed(wrapped.broadcast_to(broadcast) * stride, len(before),
                                   len(broadcast))
        else:
            if not -size <= part < size:
                raise IndexError(f"index {part} is out of bounds for axis {d} with size {size}")
            total = total + (part % size) * stride
    return total.broadcast_to(shape).contiguous()


def _flat(array):
    """The contiguous array's elements as a 1-D device array."""
    return array.buffer[array.offset:array.offset + array.size]


def take(array, key):
    from .array import CudaArray
    where = positions(array, key)
    out = CudaArray.empty(where.shape, array.dtype)
    if where.size:
        _gather[blocks(where.size), THREADS](array.buffer, _flat(where), array.buffer.size,
                                             out.buffer)
    return out


def put(array, key, values, add: bool = False) -> None:
    """array[key] = values, or += with repeats adding up (np.add.at) when `add`."""
    where = positions(array, key)
    values = values.astype(array.dtype, copy=False).broadcast_to(where.shape).contiguous()
    if where.size:
        _scatter[blocks(where.size), THREADS](_flat(values), _flat(where), array.buffer.size,
                                              array.buffer, add)
