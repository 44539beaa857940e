// Boost.JSON compiled into the daemon (it links statically, and Debian's shared library is
// what the Boost::json target names).
#include <boost/json/src.hpp>
