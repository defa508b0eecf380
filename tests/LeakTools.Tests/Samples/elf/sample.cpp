// Symbolization fixture for C++ demangling: namespaces, classes, templates, operators.
#include <cstdio>
#include <vector>

namespace leaktools {
namespace fixture {

class Allocator {
public:
    __attribute__((noinline)) int *allocate(int count) { return new int[count]; }
    __attribute__((noinline)) int operator()(int x) const { return x + 1; }
};

template <typename T>
__attribute__((noinline)) T twice(T value) { return value + value; }

} // namespace fixture
} // namespace leaktools

__attribute__((noinline)) int overloaded(int x) { return x; }
__attribute__((noinline)) int overloaded(double x) { return (int)x; }

int main(int argc, char **)
{
    leaktools::fixture::Allocator a;
    int *p = a.allocate(argc + 4);
    p[0] = a(argc);
    std::printf("%d %d %f %d %d\n", p[0], leaktools::fixture::twice(argc), leaktools::fixture::twice(1.5), overloaded(argc), overloaded(2.5));
    return 0;
}
