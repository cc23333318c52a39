using Feedback.Api.Hosting;
using Shouldly;

namespace Feedback.Api.Tests;

public sealed class ListenAddressTests
{
    [Theory]
    [InlineData(null, null, "http://127.0.0.1:8000")]
    [InlineData("0.0.0.0", "0", "http://0.0.0.0:0")]
    [InlineData("::1", "8080", "http://::1:8080")]
    [InlineData("localhost", " 8001 ", "http://localhost:8001")]
    [InlineData("*", "65535", "http://*:65535")]
    public void Valid_host_and_port_make_the_listen_url(string? host, string? port, string expected)
    {
        ListenAddress.Build(host, port, out var error).ShouldBe(expected);
        error.ShouldBeNull();
    }

    [Theory]
    [InlineData("127.0.0.1", "abc", "PORT")]
    [InlineData("127.0.0.1", "-1", "PORT")]
    [InlineData("127.0.0.1", "65536", "PORT")]
    [InlineData("", "8000", "HOST")]
    [InlineData("127.0.0.1/admin", "8000", "HOST")]
    [InlineData("127.0.0.1:9000", "8000", "HOST")]
    public void An_invalid_host_or_port_is_refused_with_the_variable_name(string host, string port, string variable)
    {
        ListenAddress.Build(host, port, out var error).ShouldBeNull();
        error.ShouldNotBeNull().ShouldStartWith(variable + " ");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("127.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("localhost")]
    [InlineData("LocalHost")]
    [InlineData("*")]
    public void An_address_or_localhost_listens_where_it_says_and_needs_no_warning(string? host)
    {
        ListenAddress.Warning(host).ShouldBeNull();
    }

    [Theory]
    [InlineData("api.internal")]
    [InlineData("myhost")]
    public void A_host_name_is_warned_about_because_kestrel_then_listens_on_every_interface(string host)
    {
        ListenAddress.Warning(host).ShouldNotBeNull().ShouldContain("every network interface");
    }
}
