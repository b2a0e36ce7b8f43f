"""The arrays of a zarr node, by path, for the tools that compare copies
(compare.py, read_view.py, s3_read.py): one walk of groups for all of them."""
import zarr


def arrays(node, prefix=""):
    """{path: array} of every array at or below NODE (an array alone is at "")."""
    if isinstance(node, zarr.Array):
        return {prefix: node}
    found = {}
    for name, a in node.arrays():
        found[prefix + name] = a
    for name, g in node.groups():
        found.update(arrays(g, prefix + name + "/"))
    return found
