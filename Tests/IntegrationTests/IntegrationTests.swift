import Testing

/// Every test here runs the real `softcopy-coordinator` binary against real writers
/// (tensorstore and zarr-python from PyPI, driven by tools/acquire.py). They run one at a
/// time: each is CPU-heavy on a small machine, and one briefly changes a global sysctl.
@Suite("Integration: the real binary against real writers", .serialized)
struct IntegrationTests {}
