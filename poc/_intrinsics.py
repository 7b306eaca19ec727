"""LLVM intrinsics shared by the Numba kernels: bit casts and the fused multiply-add.

Private; used by the sampler (:mod:`poc._stable_kernels`), the activations of
:mod:`poc.drifts.network` and the compiled loop (:mod:`poc._loop_kernels`).

* ``as_bits(x)`` / ``from_bits(i)``: the bits of a float64 as an int64 and back
  (LLVM bitcast: free and vectorisable, unlike frexp / ldexp calls).
* ``fma(a, b, c)``: ``a b + c`` rounded once (LLVM's fma: one instruction on
  every CPU with FMA, a slower library call on the few without; the same bits
  on both, unlike a contraction left to the compiler: an SSE2-only build gave
  the same sampler streams). Fused multiply-adds shorten the dependency chains
  of polynomial evaluations, which is what limits the vectorised loops.
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic


def _bitcast(src, dst):
    """An intrinsic reinterpreting the bits of a ``src`` scalar as a ``dst`` scalar."""

    @intrinsic
    def cast(typingctx, x):
        if x != src:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(dst))

        return dst(src), codegen

    return cast


as_bits = _bitcast(types.float64, types.int64)
from_bits = _bitcast(types.int64, types.float64)


@intrinsic
def fma(typingctx, a, b, c):
    """a b + c rounded once (float64)."""
    if not (a == b == c == types.float64):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float64(a, b, c), codegen
