using System;
using System.Diagnostics;
using LeakTools.Procfs;
using Xunit;

namespace LeakTools.Tests.Procfs;

/// <summary>
/// The liveness check that notices PID reuse. reuse/stat-before and reuse/stat-after were recorded from two
/// processes that held the same PID one after the other (the second got it through ns_last_pid);
/// reuse/zombie-stat from a child that had exited and was not yet reaped.
/// </summary>
public class ProcessIdentityTests
{
    private static ProcessStat Stat(string sample) => ProcessStat.Parse(Samples.Read(sample), 4096);

    [Fact]
    public void TheSameProcessMatches()
    {
        ProcessStat before = Stat("reuse/stat-before");
        Assert.True(ProcessIdentity.Of(before).Matches(Stat("reuse/stat-before")));
        Assert.True(ProcessIdentity.Of(Stat("sleep/stat")).Matches(Stat("sleep/stat")));
    }

    [Fact]
    public void AProcessThatReusedThePidDoesNotMatch()
    {
        ProcessStat before = Stat("reuse/stat-before");
        ProcessStat after = Stat("reuse/stat-after");
        Assert.Equal(before.ProcessId, after.ProcessId);
        Assert.Equal(before.State, after.State);
        Assert.NotEqual(before.StartTime, after.StartTime);
        Assert.False(ProcessIdentity.Of(before).Matches(after));
    }

    [Fact]
    public void AZombieHasExited()
    {
        ProcessStat zombie = Stat("reuse/zombie-stat");
        Assert.Equal('Z', zombie.State);
        Assert.False(ProcessIdentity.Of(zombie).Matches(zombie));
    }

    [Fact]
    public void NoProcessHasExited() =>
        Assert.False(ProcessIdentity.Of(Stat("sleep/stat")).Matches(null));

    [Fact]
    public void ALiveProcessIsAliveUntilItIsReaped()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "30"))!;
        ProcessIdentity identity = ProcessIdentity.TryCapture(child.Id)!.Value;
        Assert.Equal(child.Id, identity.ProcessId);
        Assert.True(identity.IsSameProcessAlive());

        child.Kill();
        child.WaitForExit();
        Assert.False(identity.IsSameProcessAlive());
        Assert.Null(ProcessIdentity.TryCapture(child.Id));
    }

    [Fact]
    public void ThisProcessIsAlive()
    {
        ProcessIdentity identity = ProcessIdentity.TryCapture(Environment.ProcessId)!.Value;
        Assert.True(identity.IsSameProcessAlive());
        Assert.False((identity with { StartTime = identity.StartTime + 1 }).IsSameProcessAlive());
    }
}
