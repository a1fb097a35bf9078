# 1024x1024 RGBA: navy rounded square, gold ring, white stylised "scales" bar; pure Python PNG.
import zlib, struct, math
N=1024
def px(x,y):
    # rounded square
    r=180; m=40
    cx=min(max(x,m+r),N-m-r); cy=min(max(y,m+r),N-m-r)
    d=math.hypot(x-cx,y-cy)
    if x<m or x>N-m or y<m or y>N-m or d>r: return (0,0,0,0)
    a=255 if d<r-1.5 else int(255*max(0,min(1,r-d)))
    col=(29,58,110)
    X=x-N/2; Y=y-N/2; rr=math.hypot(X,Y)
    if 330<rr<370: col=(240,192,64)
    # pillar
    if abs(X)<28 and -230<Y<200: col=(255,255,255)
    # beam
    if abs(Y+170)<22 and abs(X)<250: col=(255,255,255)
    # base
    if abs(Y-215)<26 and abs(X)<150: col=(255,255,255)
    # pans (bowls)
    for sx in (-210,210):
        bx=X-sx; by=Y-20
        if math.hypot(bx,by)<110 and by>0: col=(240,192,64)
        # strings
        if -170<Y<20 and abs(abs(bx)-(190-(Y+170)*0.5) if False else 0)<0: pass
        t=(Y+170)/190
        if 0<=t<=1 and (abs(bx-(-100*t))<8 or abs(bx-(100*t))<8): col=(255,255,255)
    return col+(a,)
rows=[]
for y in range(N):
    row=bytearray([0])
    for x in range(N): row+=bytes(px(x,y))
    rows.append(bytes(row))
raw=b''.join(rows)
def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d)&0xffffffff)
png=b'\x89PNG\r\n\x1a\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',N,N,8,6,0,0,0))+chunk(b'IDAT',zlib.compress(raw,9))+chunk(b'IEND',b'')
open('/tmp/jiceng-icon.png','wb').write(png)
