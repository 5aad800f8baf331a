"""
â•”â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•—
â•‘                  DMXAPI è‡ªç ”æ¥å£                               â•‘
â•šâ•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•

ğŸ“ åŠŸèƒ½è¯´æ˜:
   æœ¬è„šæœ¬æ¼”ç¤ºå¦‚ä½•ä½¿ç”¨ requests åº“è°ƒç”¨ DMXAPI çš„è‡ªç ”æ¥å£
   è·å–è§†é¢‘ç”Ÿæˆè¿›åº¦å¹¶æ˜¾ç¤ºè¿›åº¦æ¡

â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•
"""

import requests
import json
import sys
import re

# â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•
# ğŸ”‘ æ¥éª¤1: é…ç½® API è¿æ¥ä¿¡æ¯
# â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•

# ğŸŒ DMXAPI æœåŠ¡ç«¯ç‚¹åœ°å€
url = "https://www.dmxapi.cn/v1/responses"

# ğŸ” DMXAPI å¯†é’¥ (è¯·æ›¿æ¢ä¸ºæ‚¨è‡ªå·±çš„å¯†é’¥)
# è·å–æ–¹å¼: ç™»å½• DMXAPI å®˜ç½‘ -> ä¸ªäººä¸å¿ƒ -> API å¯†é’¥ç®¡ç†
api_key = "sk-***********************************************"

# â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•
# ğŸ“‹ æ¥éª¤2: é…ç½®è¯·æ±‚å¤´
# â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•

headers = {
    "Content-Type": "application/json",      # æŒ‡å®šè¯·æ±‚ä½“ä¸º JSON æ ¼å¼
    "Authorization": f"{api_key}",    # token è®¤è¯æ–¹å¼
}

# â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•
# ğŸ’¬ æ¥éª¤3: é…ç½®è¯·æ±‚å‚æ•°
# â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•

payload = {
    "model": "seedance-get",
    "input": "cgt-20260119222114-2r292",
    "stream": True
}

# â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•
# ğŸ“¤ æ¥éª¤4: å‘é€è¯·æ±‚å¹¶æ˜¾ç¤ºè¿›åº¦æ¡
# â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•â•

response = requests.post(url, headers=headers, json=payload, stream=True)

progress = 0
video_url = None
step_count = 0

# å40%è¿›åº¦æ˜ å°„ï¼šæ ¹æ®å®é™…äº‹ä»¶ç±»å‹è®¾ç½®è¿›åº¦
progress_map = {
    "response.output_text.delta": 70,
    "response.output_text.done": 80,
    "response.content_part.done": 85,
    "response.output_item.done": 90,
    "response.completed": 100
}

def show_progress(p):
    """æ˜¾ç¤ºè¿›åº¦æ¡"""
    bar = '█' * (p // 2) + '░' * (50 - p // 2)
    sys.stdout.write(f'\r[{bar}] {p}%')
    sys.stdout.flush()

for line in response.iter_lines():
    if line:
        line_str = line.decode('utf-8')

        # 跳过 event: 行
        if line_str.startswith('event:'):
            continue

        # å¤„ç† data: è¡Œ
        if line_str.startswith('data: '):
            line_str = line_str[6:]

        if line_str == '[DONE]':
            progress = 100
            show_progress(progress)
            break

        try:
            data = json.loads(line_str)
            event_type = data.get('type', '')

            # å‰60%ï¼šç¨³æ¥å¢é•¿
            if progress < 60:
                step_count += 1
                progress = min(step_count * 10, 60)

            # å40%ï¼šæ ¹æ®å®é™…äº‹ä»¶ç±»å‹æ›´æ–°
            if event_type in progress_map:
                progress = max(progress, progress_map[event_type])

            # æå–è§†é¢‘URLï¼ˆä»æ–‡æœ¬å†…å®¹ä¸ï¼‰
            if event_type == 'response.completed':
                progress = 100
                text_content = data.get('response', {}).get('output', [{}])[0].get('content', [{}])[0].get('text', '')
                url_match = re.search(r'视频URL: (https://[^\s\n]+)', text_content)
                if url_match:
                    video_url = url_match.group(1)

            show_progress(progress)

        except json.JSONDecodeError:
            pass

# å®Œæˆåæ¢è¡Œå¹¶è¾“å‡ºè§†é¢‘URL
print()
if video_url:
    print(f"视频地址: {video_url}")
else:
    print("未获取到视频地址")
