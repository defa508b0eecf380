using LeakTools.Symbols;
using Xunit;

namespace LeakTools.Tests.Symbols;

public class DemanglerTests
{
    [Theory]
    [InlineData("fibonacci", "fibonacci")]
    [InlineData("malloc@@GLIBC_2.2.5", "malloc")]
    [InlineData("helper.cold", "helper.cold")]
    [InlineData("_Zfoo", "_Zfoo")] // not a valid Itanium name: unchanged
    public void CNamesStayAsTheyAre(string symbol, string expected) => Assert.Equal(expected, SymbolDemangler.Demangle(symbol));

    [Theory]
    [InlineData("_ZN9leaktools7fixture9Allocator8allocateEi", "leaktools::fixture::Allocator::allocate")]
    [InlineData("_ZNK9leaktools7fixture9AllocatorclEi", "leaktools::fixture::Allocator::operator()")]
    [InlineData("_ZN9leaktools7fixture5twiceIdEET_S2_", "leaktools::fixture::twice<double>")]
    [InlineData("_ZSt4sortIPiEvT_S1_", "std::sort<int*>")]
    [InlineData("_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back")]
    [InlineData("_ZlsRSoRKi", "operator<<")]
    [InlineData("_ZN3FooltERKS_", "Foo::operator<")]
    [InlineData("_ZN3FoocviEv", "Foo::operator int")]
    [InlineData("_ZN3FoonwEm", "Foo::operator new")]
    [InlineData("_ZZ4mainENKUlvE_clEv", "main::{lambda()#1}::operator()")]
    [InlineData("_ZN12_GLOBAL__N_13bazEv", "(anonymous namespace)::baz")]
    [InlineData("_ZN3foo3barEv.cold", "foo::bar")]
    [InlineData("_Z10overloadedd", "overloaded")]
    public void CxxNamesLoseParametersAndReturnType(string symbol, string expected) =>
        Assert.Equal(expected, SymbolDemangler.Demangle(symbol));

    [Fact]
    public void FullCxxSignatureIsAvailable()
    {
        Assert.Equal("overloaded(double)", SymbolDemangler.DemangleCxxSignature("_Z10overloadedd"));
        Assert.Null(SymbolDemangler.DemangleCxxSignature("fibonacci"));
    }

    // Legacy names as rustc 1.x emits them by default (checked against c++filt, minus the hash).
    [Theory]
    [InlineData("_ZN3lib4leak9fibonacci17h8239dc629666089bE", "lib::leak::fibonacci")]
    [InlineData("_ZN3lib4leak15Holder$LT$T$GT$4grow17h37516e045951f17dE", "lib::leak::Holder<T>::grow")]
    [InlineData("_ZN4core3ptr67drop_in_place$LT$lib..leak..Holder$LT$alloc..string..String$GT$$GT$17hf48b10d4d26f02b1E",
        "core::ptr::drop_in_place<lib::leak::Holder<alloc::string::String>>")]
    [InlineData("_ZN5alloc7raw_vec19RawVec$LT$T$C$A$GT$8grow_one17h8c0a11649d61eadaE", "alloc::raw_vec::RawVec<T,A>::grow_one")]
    [InlineData("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h1b2c3d4e5f607182E", "std::rt::lang_start::{{closure}}")]
    public void RustLegacyNamesDropTheHash(string symbol, string expected) => Assert.Equal(expected, SymbolDemangler.Demangle(symbol));

    // v0 names from rustc -C symbol-mangling-version=v0 (c++filt agrees, apart from the crate hashes it shows).
    [Theory]
    [InlineData("_RNvNtCsh537bOAIRKx_3lib4leak9fibonacci", "lib::leak::fibonacci")]
    [InlineData("_RNvCsh537bOAIRKx_3lib7use_all", "lib::use_all")]
    [InlineData("_RINvNtCsh537bOAIRKx_3lib4leak4pairKj3_EB4_", "lib::leak::pair::<3>")]
    [InlineData("_RNvMNtCsh537bOAIRKx_3lib4leakINtB2_6HoldermE4growB4_", "<lib::leak::Holder<u32>>::grow")]
    [InlineData("_RNvMs3_NtCslNYArtu3iFV_5alloc7raw_vecINtB5_6RawVecmE8grow_oneCsh537bOAIRKx_3lib", "<alloc::raw_vec::RawVec<u32>>::grow_one")]
    [InlineData("_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeINtNtCsh537bOAIRKx_3lib4leak6HolderNtNtCslNYArtu3iFV_5alloc6string6StringEEBL_",
        "core::ptr::drop_in_place::<lib::leak::Holder<alloc::string::String>>")]
    [InlineData("_RNCNvCs1234_5hello4main0B3_", "hello::main::{closure#0}")]
    public void RustV0PathsDecode(string symbol, string expected) => Assert.Equal(expected, SymbolDemangler.Demangle(symbol));

    [Theory]
    [InlineData("_RNvC")]             // truncated
    [InlineData("_RNvCu6fooBar3baz")] // punycode identifier: not decoded
    [InlineData("_RB_")]              // back-reference that does not point backwards
    public void MalformedRustV0StaysMangled(string symbol) => Assert.Equal(symbol, SymbolDemangler.Demangle(symbol));
}
