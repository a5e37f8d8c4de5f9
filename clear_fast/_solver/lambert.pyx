# cython: language_level=3
"""Lambert W as a kernel entry point (the scalar functions are in lambert.pxd).

Trusts its inputs (contiguous float64 buffers of equal length) and never
raises. The twin is clear_fast/_reference/lambert.py.
"""


def lambert_w(const double[::1] z, int branch, double[::1] out):
    """Write ``W_branch(z[i])`` into ``out[i]`` (branch 0 or -1)."""
    cdef Py_ssize_t i, n = z.shape[0]
    with nogil:
        if branch == 0:
            for i in range(n):
                out[i] = lambert_w0(z[i])
        else:
            for i in range(n):
                out[i] = lambert_wm1(z[i])
