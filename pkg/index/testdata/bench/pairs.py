import re,sys,statistics as st
from collections import defaultdict
res=defaultdict(list); base=defaultdict(list); loads=[]; cur=None; d=None
for line in open(sys.argv[1]):
    if line.startswith('== oldstyle'): break
    m=re.match(r'== pair r(\d+) (\S+) .*load average: ([\d.]+)',line)
    if m: cur=m.group(2); loads.append(float(m.group(3))); d=None; continue
    m=re.match(r'BenchmarkBulkIndex5KB/(\S+)-\d+\s+\d+\s+.*?([\d.]+) docs/s',line)
    if not m: continue
    if m.group(1)=='default': d=float(m.group(2)); base['default'].append(d)
    elif d: res[m.group(1)].append((float(m.group(2)), float(m.group(2))/d))
print(f'1-min load during the sweep: min {min(loads)}, median {st.median(loads)}, max {max(loads)}; default runs: median {st.median(base["default"]):.0f} docs/s (min {min(base["default"]):.0f}, max {max(base["default"]):.0f}, n={len(base["default"])})')
print('| case | docs/s per round | ratio to the default run just before it, per round | median ratio |')
print('|---|---|---|---|')
for k,v in res.items():
    print(f'| {k} | '+', '.join(f'{x:.0f}' for x,_ in v)+' | '+', '.join(f'{r:.2f}' for _,r in v)+f' | **{st.median([r for _,r in v]):.2f}** |')
