namespace LeakTools.Export;

/// <summary>Which colour family a frame gets.</summary>
public enum FlameFrameKind
{
    User,
    Kernel,
    Process,
}
