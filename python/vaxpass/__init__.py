"""vaxpass: offline-first vaccination passes (Authority, Wallet, Verifier).

The classes and functions are uniffi's generated bindings of the vaxpass-ffi library, which this
package carries in ``vaxpass._ffi`` with the library itself; every public name is re-exported
here. See the package README for an example.
"""

from ._ffi.vaxpass import *  # noqa: F401,F403
from ._ffi.vaxpass import __all__  # noqa: F401
