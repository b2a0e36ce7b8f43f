/// The dashboard's style: readable at a glance on a control-room screen.
enum DashboardStyle {
    static let css = #"""
    :root { font-family: system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
    body { margin: 0 1.5rem 2rem; }
    header { display: flex; gap: 1.5rem; align-items: baseline; border-bottom: 1px solid #d7dbe0; }
    header h1 { font-size: 1.4rem; margin: .6rem 0; }
    header h1 a { color: inherit; text-decoration: none; }
    h2 { font-size: 1.1rem; margin-top: 1.6rem; }
    table { border-collapse: collapse; width: 100%; background: #fff; font-variant-numeric: tabular-nums; }
    th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e6e9ed; vertical-align: top; }
    td.path { word-break: break-all; max-width: 28rem; }
    th { font-weight: 600; background: #eef0f3; }
    .muted { color: #6b7580; }
    .good { color: #1a7f37; font-weight: 600; }
    .bad { color: #c62828; font-weight: 600; }
    .warn { color: #9a6700; font-weight: 600; }
    ol#job-log { font-family: ui-monospace, monospace; font-size: .85rem; background: #fff; padding: .5rem 2.5rem; }
    ol#job-log li.warning, ol#job-log li.error { color: #9a3412; }
    dl#job-facts { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
    dl#job-facts dt { font-weight: 600; }
    """#
}
