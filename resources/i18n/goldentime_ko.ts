<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko">
<context>
    <name>AuditPanel</name>
    <message>
        <source>Searching…</source>
        <translation>검색 중…</translation>
    </message>
    <message>
        <source>Export the audit trail</source>
        <translation>감사 기록 내보내기</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 파일 (*.csv)</translation>
    </message>
    <message>
        <source>The newest {n} rows; narrow the search or export to see the rest.</source>
        <translation>최근 {n}건만 표시합니다. 조건을 좁히거나 내보내기로 나머지를 확인하십시오.</translation>
    </message>
    <message>
        <source>{n} rows</source>
        <translation>{n}건</translation>
    </message>
    <message>
        <source>Exported to {path} ({kb} KB)</source>
        <translation>{path}(으)로 내보냈습니다 ({kb} KB)</translation>
    </message>
    <message>
        <source>Audit trail</source>
        <translation>감사 기록</translation>
    </message>
    <message>
        <source>Who</source>
        <translation>사용자</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>행위</translation>
    </message>
    <message>
        <source>Target id</source>
        <translation>대상 ID</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>기간</translation>
    </message>
    <message>
        <source>e.g. user:kim or agency:112 room</source>
        <translation>예: user:kim 또는 agency:112 상황실</translation>
    </message>
    <message>
        <source>camera, incident or share id</source>
        <translation>카메라·사건·공유 ID</translation>
    </message>
    <message>
        <source>every action</source>
        <translation>모든 행위</translation>
    </message>
    <message>
        <source>Last hour</source>
        <translation>최근 1시간</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>최근 24시간</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>최근 7일</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>최근 30일</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>검색</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>CSV 내보내기…</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>시각</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>대상</translation>
    </message>
    <message>
        <source>From</source>
        <translation>접속 주소</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>세부 내용</translation>
    </message>
</context>
<context>
    <name>CameraPanel</name>
    <message>
        <source>offline</source>
        <translation>오프라인</translation>
    </message>
    <message numerus="yes">
        <source>%n camera(s)</source>
        <translation>
            <numerusform>카메라 %n대</numerusform>
        </translation>
    </message>
    <message>
        <source>Approximate position: not used as a nearest camera until corrected</source>
        <translation>대략적 위치: 위치를 바로잡기 전까지 최근접 카메라로 쓰지 않습니다</translation>
    </message>
    <message>
        <source>Operated by: {provider}</source>
        <translation>관리기관: {provider}</translation>
    </message>
    <message>
        <source>Register number: {number}</source>
        <translation>관리번호: {number}</translation>
    </message>
    <message>
        <source>Address: {address}</source>
        <translation>소재지: {address}</translation>
    </message>
    <message>
        <source>Purpose in the register: {purpose}</source>
        <translation>설치목적구분: {purpose}</translation>
    </message>
    <message>
        <source>Installed: {when}</source>
        <translation>설치연월: {when}</translation>
    </message>
    <message>
        <source>Resolution: {mp} megapixels</source>
        <translation>화소: {mp}백만 화소</translation>
    </message>
    <message>
        <source>Resolution: {pixels}</source>
        <translation>카메라화소수: {pixels}</translation>
    </message>
    <message>
        <source>Filming: {view}</source>
        <translation>촬영방면: {view}</translation>
    </message>
    <message numerus="yes">
        <source>Keeps video for %n day(s)</source>
        <translation>
            <numerusform>영상 보관 %n일</numerusform>
        </translation>
    </message>
    <message>
        <source>Phone: {phone}</source>
        <translation>관리기관 전화번호: {phone}</translation>
    </message>
    <message>
        <source>Register edition: {date}</source>
        <translation>데이터기준일자: {date}</translation>
    </message>
    <message>
        <source>Search cameras (Ctrl+F)</source>
        <translation>카메라 검색 (Ctrl+F)</translation>
    </message>
    <message>
        <source>Drag a camera onto a video tile, or double-click to add it to the wall</source>
        <translation>카메라를 영상 타일로 끌어 놓거나, 두 번 클릭해 영상 벽에 추가하세요</translation>
    </message>
</context>
<context>
    <name>ConnectionBanner</name>
    <message>
        <source>Engine unreachable – video keeps playing, but actions cannot be carried out. Reconnecting… ({reason})</source>
        <translation>엔진에 연결할 수 없습니다 – 영상은 계속 재생되지만 조치는 실행할 수 없습니다. 다시 연결하는 중… ({reason})</translation>
    </message>
    <message>
        <source>Retry now</source>
        <translation>지금 재시도</translation>
    </message>
</context>
<context>
    <name>Console</name>
    <message>
        <source>Your session has ended ({reason}). Log in again.</source>
        <translation>세션이 종료되었습니다 ({reason}). 다시 로그인하세요.</translation>
    </message>
    <message>
        <source>No camera in the drawn area.</source>
        <translation>그린 영역에 카메라가 없습니다.</translation>
    </message>
    <message>
        <source>%n camera(s) of the drawn area on the wall.</source>
        <translation>그린 영역의 카메라 %n대를 영상 벽에 띄웠습니다.</translation>
    </message>
</context>
<context>
    <name>ConsoleController</name>
    <message>
        <source>Something went wrong; see the log for details.</source>
        <translation>문제가 발생했습니다. 자세한 내용은 로그를 확인하세요.</translation>
    </message>
    <message>
        <source>Unknown user or wrong password.</source>
        <translation>사용자 이름 또는 비밀번호가 올바르지 않습니다.</translation>
    </message>
    <message>
        <source>The engine cannot be reached: {detail}</source>
        <translation>엔진에 연결할 수 없습니다: {detail}</translation>
    </message>
    <message>
        <source>The engine is unreachable; the action was not carried out. ({detail})</source>
        <translation>엔진에 연결할 수 없어 조치가 실행되지 않았습니다. ({detail})</translation>
    </message>
    <message>
        <source>The session has expired; please log in again.</source>
        <translation>세션이 만료되었습니다. 다시 로그인하세요.</translation>
    </message>
    <message>
        <source>The engine refused the action: {detail}</source>
        <translation>엔진이 조치를 거부했습니다: {detail}</translation>
    </message>
    <message>
        <source>Incident acknowledged.</source>
        <translation>사건을 접수했습니다.</translation>
    </message>
    <message>
        <source>Incident assigned to {name}.</source>
        <translation>사건을 {name}에게 배정했습니다.</translation>
    </message>
    <message>
        <source>Priority changed to {p}.</source>
        <translation>우선순위를 {p}(으)로 변경했습니다.</translation>
    </message>
    <message>
        <source>Incident closed.</source>
        <translation>사건을 종결했습니다.</translation>
    </message>
    <message>
        <source>A share needs an agency, at least one camera, 1–1440 minutes and a purpose.</source>
        <translation>영상 공유에는 기관, 카메라 1대 이상, 1–1440분, 목적이 필요합니다.</translation>
    </message>
    <message>
        <source>Video shared with {agency}.</source>
        <translation>{agency}에 영상을 공유했습니다.</translation>
    </message>
    <message>
        <source>Extension by {m} minutes asked; a supervisor decides.</source>
        <translation>{m}분 연장을 요청했습니다. 감독자가 결정합니다.</translation>
    </message>
    <message>
        <source>Share extended by {m} minutes.</source>
        <translation>공유를 {m}분 연장했습니다.</translation>
    </message>
    <message>
        <source>Share revoked.</source>
        <translation>공유를 철회했습니다.</translation>
    </message>
    <message>
        <source>No 119 fire agency is configured.</source>
        <translation>119 소방 기관이 설정되어 있지 않습니다.</translation>
    </message>
    <message>
        <source>Reported from the operator console</source>
        <translation>관제 콘솔에서 신고함</translation>
    </message>
    <message>
        <source>Reported to {agency}.</source>
        <translation>{agency}에 신고했습니다.</translation>
    </message>
    <message>
        <source>Delivery queued again.</source>
        <translation>전송을 다시 대기열에 넣었습니다.</translation>
    </message>
</context>
<context>
    <name>DetailPanel</name>
    <message>
        <source>DRILL</source>
        <translation>훈련</translation>
    </message>
    <message>
        <source>{service} · {status} · {where} · assignee: {assignee} · units: {units}</source>
        <translation>{service} · {status} · {where} · 담당: {assignee} · 출동 단위: {units}</translation>
    </message>
    <message>
        <source>Golden time {left}</source>
        <translation>골든타임 {left}</translation>
    </message>
    <message>
        <source>Golden time OVERDUE {over}</source>
        <translation>골든타임 초과 {over}</translation>
    </message>
    <message>
        <source>Golden time met</source>
        <translation>골든타임 준수</translation>
    </message>
    <message>
        <source>Golden time missed ({over})</source>
        <translation>골든타임 미준수 ({over})</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>오프라인</translation>
    </message>
    <message>
        <source>Drag onto a video tile, or double-click to add it to the wall</source>
        <translation>영상 타일로 끌어 놓거나, 두 번 클릭해 영상 벽에 추가하세요</translation>
    </message>
    <message numerus="yes">
        <source>Cameras (%n)</source>
        <translation>
            <numerusform>카메라 (%n)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Shares (%n)</source>
        <translation>
            <numerusform>공유 (%n)</numerusform>
        </translation>
    </message>
    <message>
        <source>Share page for the agency&apos;s browser (every camera live): {url}</source>
        <translation>기관 브라우저용 공유 페이지(모든 카메라 실시간): {url}</translation>
    </message>
    <message>
        <source>{ok}/{total} delivered</source>
        <translation>{ok}/{total} 전달됨</translation>
    </message>
    <message numerus="yes">
        <source>attempt %n</source>
        <translation>
            <numerusform>%n회 시도</numerusform>
        </translation>
    </message>
    <message>
        <source>Deliveries</source>
        <translation>전송</translation>
    </message>
    <message>
        <source>Assign incident</source>
        <translation>사건 배정</translation>
    </message>
    <message>
        <source>Assign to (operator name):</source>
        <translation>배정할 관제요원 이름:</translation>
    </message>
    <message>
        <source>Close incident</source>
        <translation>사건 종결</translation>
    </message>
    <message>
        <source>Close “{title}”? Active shares end with it.</source>
        <translation>“{title}” 사건을 종결할까요? 진행 중인 공유도 함께 종료됩니다.</translation>
    </message>
    <message>
        <source>Closed by the operator</source>
        <translation>관제요원이 종결함</translation>
    </message>
    <message>
        <source>Extend the share</source>
        <translation>공유 연장</translation>
    </message>
    <message>
        <source>Why is the video still needed for 30 more minutes? (recorded in the audit)</source>
        <translation>영상이 30분 더 필요한 이유는 무엇입니까? (감사 기록에 남습니다)</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>접수</translation>
    </message>
    <message>
        <source>Acknowledge the incident (Ctrl+Enter)</source>
        <translation>사건 접수 (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Assign…</source>
        <translation>배정…</translation>
    </message>
    <message>
        <source>Share video…</source>
        <translation>영상 공유…</translation>
    </message>
    <message>
        <source>Share cameras with an agency for a time and purpose (Ctrl+Shift+S)</source>
        <translation>기간과 목적을 정해 기관에 카메라 영상을 공유합니다 (Ctrl+Shift+S)</translation>
    </message>
    <message>
        <source>Report to 119</source>
        <translation>119 신고</translation>
    </message>
    <message>
        <source>Report a fire to 119 with a snapshot of the selected camera, in one step (Ctrl+Shift+R)</source>
        <translation>선택한 카메라의 스냅샷과 함께 한 번에 119에 화재를 신고합니다 (Ctrl+Shift+R)</translation>
    </message>
    <message>
        <source>Cameras to wall</source>
        <translation>카메라를 영상 벽으로</translation>
    </message>
    <message>
        <source>Put all of this incident&apos;s cameras on the video wall (Ctrl+Shift+W)</source>
        <translation>이 사건의 모든 카메라를 영상 벽에 띄웁니다 (Ctrl+Shift+W)</translation>
    </message>
    <message>
        <source>Send to wall display</source>
        <translation>상황판으로 보내기</translation>
    </message>
    <message>
        <source>Show this incident on the control room&apos;s wall display</source>
        <translation>이 사건을 관제실 상황판에 표시합니다</translation>
    </message>
    <message>
        <source>Priority:</source>
        <translation>우선순위:</translation>
    </message>
    <message>
        <source>Extend 30 min</source>
        <translation>30분 연장</translation>
    </message>
    <message>
        <source>Revoke</source>
        <translation>철회</translation>
    </message>
    <message>
        <source>Retry dead letters</source>
        <translation>실패 전송 재시도</translation>
    </message>
    <message>
        <source>Timeline</source>
        <translation>경과</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>시각</translation>
    </message>
    <message>
        <source>By</source>
        <translation>처리자</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>내용</translation>
    </message>
    <message>
        <source>Agency</source>
        <translation>기관</translation>
    </message>
    <message>
        <source>State</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Expires in</source>
        <translation>남은 시간</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>카메라</translation>
    </message>
    <message>
        <source>Purpose</source>
        <translation>목적</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>진행</translation>
    </message>
    <message>
        <source>Last error</source>
        <translation>마지막 오류</translation>
    </message>
    <message>
        <source>Select an incident in the queue or on the map.</source>
        <translation>대기열이나 지도에서 사건을 선택하세요.</translation>
    </message>
</context>
<context>
    <name>EvidenceButton</name>
    <message>
        <source>Evidence bundle…</source>
        <translation>증거 묶음…</translation>
    </message>
    <message>
        <source>Save this incident&apos;s signed evidence bundle (EIDO, timeline, shares and their legal basis, viewings, audit with chain proof); check it with: main.py incident verify FILE.zip</source>
        <translation>이 사건의 서명된 증거 묶음(EIDO, 경과, 제공 내역과 법적 근거, 열람 기록, 체인 증명이 있는 감사 기록)을 저장합니다. 검증: main.py incident verify FILE.zip</translation>
    </message>
</context>
<context>
    <name>EvidenceSaver</name>
    <message>
        <source>Save the evidence bundle</source>
        <translation>증거 묶음 저장</translation>
    </message>
    <message>
        <source>Evidence bundle (*.zip)</source>
        <translation>증거 묶음 (*.zip)</translation>
    </message>
    <message>
        <source>Evidence bundle refused: {reason}</source>
        <translation>증거 묶음을 받지 못했습니다: {reason}</translation>
    </message>
    <message>
        <source>Cannot write {path}: {reason}</source>
        <translation>{path}에 쓸 수 없습니다: {reason}</translation>
    </message>
    <message>
        <source>Evidence bundle of {id} saved to {path}</source>
        <translation>{id}의 증거 묶음을 {path}에 저장했습니다</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <source>{off} of {total} cameras offline · {bad} agencies with delivery problems</source>
        <translation>카메라 {total}대 중 {off}대 오프라인 · 전송 문제 기관 {bad}곳</translation>
    </message>
    <message>
        <source>{dead} dead · {queued} queued</source>
        <translation>실패 {dead} · 대기 {queued}</translation>
    </message>
    <message>
        <source>Agencies</source>
        <translation>기관</translation>
    </message>
    <message>
        <source>Offline cameras</source>
        <translation>오프라인 카메라</translation>
    </message>
    <message>
        <source>Agency</source>
        <translation>기관</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>종류</translation>
    </message>
    <message>
        <source>State</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Deliveries</source>
        <translation>전송</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>카메라</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>Purpose</source>
        <translation>목적</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <source>Searching…</source>
        <translation>검색 중…</translation>
    </message>
    <message numerus="yes">
        <source>%n closed incident(s)</source>
        <translation>
            <numerusform>종결 사건 %n건</numerusform>
        </translation>
    </message>
    <message>
        <source>Closed within</source>
        <translation>종결 시점</translation>
    </message>
    <message>
        <source>Service</source>
        <translation>서비스</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>장소</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>내용</translation>
    </message>
    <message>
        <source>Near</source>
        <translation>주변</translation>
    </message>
    <message>
        <source>Last 24 hours</source>
        <translation>최근 24시간</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>최근 7일</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>최근 30일</translation>
    </message>
    <message>
        <source>Last year</source>
        <translation>최근 1년</translation>
    </message>
    <message>
        <source>All services</source>
        <translation>전체 서비스</translation>
    </message>
    <message>
        <source>Anywhere</source>
        <translation>어디든</translation>
    </message>
    <message>
        <source>Around the selected incident</source>
        <translation>선택한 사건 주변</translation>
    </message>
    <message>
        <source>Around the map&apos;s centre</source>
        <translation>지도 중심 주변</translation>
    </message>
    <message>
        <source> m</source>
        <translation> m</translation>
    </message>
    <message>
        <source>Radius of the circle, in metres</source>
        <translation>원의 반경(미터)</translation>
    </message>
    <message>
        <source>part of the address, e.g. 중앙시장</source>
        <translation>주소 일부, 예: 중앙시장</translation>
    </message>
    <message>
        <source>part of the title or the agency&apos;s number</source>
        <translation>제목 또는 기관 접수번호 일부</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>검색</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>종결</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>접수</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>우선순위</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>제목</translation>
    </message>
    <message>
        <source>Select an incident to read its timeline (read-only).</source>
        <translation>사건을 선택하면 경과를 볼 수 있습니다 (읽기 전용).</translation>
    </message>
    <message>
        <source>Incident history</source>
        <translation>사건 이력</translation>
    </message>
</context>
<context>
    <name>IncidentTableModel</name>
    <message>
        <source>Priority</source>
        <translation>우선순위</translation>
    </message>
    <message>
        <source>Golden time</source>
        <translation>골든타임</translation>
    </message>
    <message>
        <source>Service</source>
        <translation>서비스</translation>
    </message>
    <message>
        <source>Incident</source>
        <translation>사건</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>담당자</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>접수 시각</translation>
    </message>
    <message>
        <source>met ({left} left)</source>
        <translation>준수 ({left} 남음)</translation>
    </message>
    <message>
        <source>late ({over})</source>
        <translation>지연 ({over})</translation>
    </message>
    <message>
        <source>OVERDUE {over}</source>
        <translation>초과 {over}</translation>
    </message>
    <message>
        <source>DRILL</source>
        <translation>훈련</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <source>112 emergency video</source>
        <translation>112 긴급영상 지원</translation>
    </message>
    <message>
        <source>112 dispatch</source>
        <translation>112 긴급출동 지원</translation>
    </message>
    <message>
        <source>119 dispatch</source>
        <translation>119 긴급출동 지원</translation>
    </message>
    <message>
        <source>Disaster response</source>
        <translation>재난상황 긴급대응</translation>
    </message>
    <message>
        <source>Vulnerable person SOS</source>
        <translation>사회적 약자 긴급지원</translation>
    </message>
    <message>
        <source>New</source>
        <translation>신규</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>접수됨</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>종결</translation>
    </message>
    <message>
        <source>1 – critical</source>
        <translation>1 – 긴급</translation>
    </message>
    <message>
        <source>2 – high</source>
        <translation>2 – 높음</translation>
    </message>
    <message>
        <source>3 – medium</source>
        <translation>3 – 보통</translation>
    </message>
    <message>
        <source>4 – low</source>
        <translation>4 – 낮음</translation>
    </message>
    <message>
        <source>5 – minimal</source>
        <translation>5 – 최저</translation>
    </message>
    <message>
        <source>Crime prevention</source>
        <translation>방범</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>교통</translation>
    </message>
    <message>
        <source>Disaster watch</source>
        <translation>재난 감시</translation>
    </message>
    <message>
        <source>Child protection</source>
        <translation>어린이 보호</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>기타</translation>
    </message>
    <message>
        <source>Police</source>
        <translation>경찰</translation>
    </message>
    <message>
        <source>Fire</source>
        <translation>소방</translation>
    </message>
    <message>
        <source>Disaster</source>
        <translation>재난</translation>
    </message>
    <message>
        <source>Vulnerable-person service</source>
        <translation>사회적 약자 지원 기관</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>전달됨</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>대기</translation>
    </message>
    <message>
        <source>Retrying</source>
        <translation>재시도 중</translation>
    </message>
    <message>
        <source>Dead letter</source>
        <translation>전송 실패</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>활성</translation>
    </message>
    <message>
        <source>Expiring soon</source>
        <translation>곧 만료</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>만료됨</translation>
    </message>
    <message>
        <source>Revoked</source>
        <translation>철회됨</translation>
    </message>
    <message>
        <source>Waiting for approval</source>
        <translation>승인 대기</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>정상</translation>
    </message>
    <message>
        <source>Failing</source>
        <translation>장애</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>비활성</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>유휴</translation>
    </message>
    <message>
        <source>Dead letters</source>
        <translation>전송 실패 있음</translation>
    </message>
    <message>
        <source>Incident created ({service})</source>
        <translation>사건 생성 ({service})</translation>
    </message>
    <message>
        <source>Cameras selected: {cameras}</source>
        <translation>선택된 카메라: {cameras}</translation>
    </message>
    <message>
        <source>All-clear received: {headline}</source>
        <translation>해제 통보 수신: {headline}</translation>
    </message>
    <message>
        <source>Location updated</source>
        <translation>위치 갱신</translation>
    </message>
    <message>
        <source>Closed: {reason}</source>
        <translation>종결: {reason}</translation>
    </message>
    <message>
        <source>Units dispatched: {units}</source>
        <translation>출동 단위: {units}</translation>
    </message>
    <message>
        <source>Note: {text}</source>
        <translation>메모: {text}</translation>
    </message>
    <message>
        <source>Warning: {text}</source>
        <translation>경고: {text}</translation>
    </message>
    <message>
        <source>Sensor reading {value}</source>
        <translation>센서 측정값 {value}</translation>
    </message>
    <message>
        <source>Shared with {agency} for {minutes} min</source>
        <translation>{agency}에 {minutes}분간 공유</translation>
    </message>
    <message>
        <source>Share with {agency} revoked</source>
        <translation>{agency} 공유 철회</translation>
    </message>
    <message>
        <source>Share extended by {minutes} min</source>
        <translation>공유 {minutes}분 연장</translation>
    </message>
    <message>
        <source>Status changed: {value}</source>
        <translation>상태 변경: {value}</translation>
    </message>
    <message>
        <source>Assigned to {value}</source>
        <translation>{value}에게 배정</translation>
    </message>
    <message>
        <source>Priority changed: {value}</source>
        <translation>우선순위 변경: {value}</translation>
    </message>
    <message>
        <source>Reported to {agency}</source>
        <translation>{agency}에 신고</translation>
    </message>
    <message>
        <source>Delivery queued again</source>
        <translation>전송 재대기</translation>
    </message>
    <message>
        <source>Share with {agency} for {minutes} min waits for a decision</source>
        <translation>{agency}에 {minutes}분 공유: 결정 대기</translation>
    </message>
    <message>
        <source>{agency} asked for {chosen} cameras, above its cap of {cap}: confirm the share</source>
        <translation>{agency}이(가) 카메라 {chosen}대를 요청(한도 {cap}대 초과): 공유를 확인하세요</translation>
    </message>
    <message>
        <source>Share with {agency} approved</source>
        <translation>{agency} 공유 승인됨</translation>
    </message>
    <message>
        <source>Share rejected: {reason}</source>
        <translation>공유 거절: {reason}</translation>
    </message>
    <message>
        <source>Extension by {minutes} min waits for a supervisor</source>
        <translation>{minutes}분 연장: 감독자 승인 대기</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>Enter your user name and password.</source>
        <translation>사용자 이름과 비밀번호를 입력하세요.</translation>
    </message>
    <message>
        <source>GoldenTime – log in</source>
        <translation>골든타임 – 로그인</translation>
    </message>
    <message>
        <source>GoldenTime operator console</source>
        <translation>골든타임 관제 콘솔</translation>
    </message>
    <message>
        <source>Engine:</source>
        <translation>엔진:</translation>
    </message>
    <message>
        <source>User name:</source>
        <translation>사용자 이름:</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>비밀번호:</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Operator: {name}</source>
        <translation>관제요원: {name}</translation>
    </message>
    <message>
        <source>● Live</source>
        <translation>● 실시간 연결</translation>
    </message>
    <message>
        <source>● Connecting…</source>
        <translation>● 연결 중…</translation>
    </message>
    <message>
        <source>● Engine unreachable</source>
        <translation>● 엔진 연결 끊김</translation>
    </message>
    <message>
        <source>● Session refused</source>
        <translation>● 세션 거부됨</translation>
    </message>
    <message>
        <source>● Stopped</source>
        <translation>● 중지됨</translation>
    </message>
    <message>
        <source>● No live feed</source>
        <translation>● 실시간 연결 없음</translation>
    </message>
    <message>
        <source>Go to queue, detail, map, wall, cameras, health</source>
        <translation>대기열, 상세, 지도, 영상 벽, 카메라, 상태 패널로 이동</translation>
    </message>
    <message>
        <source>Move through the incident queue</source>
        <translation>사건 대기열 이동</translation>
    </message>
    <message>
        <source>Open the selected incident</source>
        <translation>선택한 사건 열기</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>접수</translation>
    </message>
    <message>
        <source>Share video with an agency</source>
        <translation>기관에 영상 공유</translation>
    </message>
    <message>
        <source>Report to 119 with a snapshot</source>
        <translation>스냅샷과 함께 119 신고</translation>
    </message>
    <message>
        <source>Put the incident&apos;s cameras on the wall</source>
        <translation>사건 카메라를 영상 벽에 띄우기</translation>
    </message>
    <message>
        <source>Close the incident</source>
        <translation>사건 종결</translation>
    </message>
    <message>
        <source>Wall layout 1, 4, 9, 16</source>
        <translation>영상 벽 분할 1, 4, 9, 16</translation>
    </message>
    <message>
        <source>Restore a maximised tile</source>
        <translation>최대화한 타일 되돌리기</translation>
    </message>
    <message>
        <source>Search cameras</source>
        <translation>카메라 검색</translation>
    </message>
    <message>
        <source>Reload from the engine</source>
        <translation>엔진에서 다시 불러오기</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>종료</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>단축키</translation>
    </message>
    <message>
        <source>GoldenTime – operator console</source>
        <translation>골든타임 – 관제 콘솔</translation>
    </message>
    <message>
        <source>Incident queue</source>
        <translation>사건 대기열</translation>
    </message>
    <message>
        <source>Incident detail</source>
        <translation>사건 상세</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>지도</translation>
    </message>
    <message>
        <source>Video wall</source>
        <translation>영상 벽</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>카메라</translation>
    </message>
    <message>
        <source>Camera and agency health</source>
        <translation>카메라·기관 상태</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Reload from the engine</source>
        <translation>엔진에서 다시 불러오기(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>종료(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>보기(&amp;V)</translation>
    </message>
    <message>
        <source>Reset panel layout</source>
        <translation>패널 배치 초기화</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>언어(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
</context>
<context>
    <name>MapView</name>
    <message>
        <source>Districts</source>
        <extracomment>MIME type of a camera dragged from the map (payload: the camera id, UTF-8). Text is set too.</extracomment>
        <translation>행정구역</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>카메라</translation>
    </message>
    <message>
        <source>Camera views</source>
        <translation>카메라 화각</translation>
    </message>
    <message>
        <source>Incidents</source>
        <translation>사건</translation>
    </message>
    <message>
        <source>DRILL</source>
        <translation>훈련</translation>
    </message>
    <message>
        <source>online</source>
        <translation>온라인</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>오프라인</translation>
    </message>
    <message>
        <source>No basemap configured: showing districts, cameras and incidents only.</source>
        <translation>배경지도가 설정되지 않았습니다: 행정구역, 카메라, 사건만 표시합니다.</translation>
    </message>
    <message>
        <source>Basemap unreachable: showing districts, cameras and incidents only.</source>
        <translation>배경지도에 연결할 수 없습니다: 행정구역, 카메라, 사건만 표시합니다.</translation>
    </message>
    <message>
        <source>Draw a circle to select cameras</source>
        <translation>원을 그려 카메라 선택</translation>
    </message>
    <message>
        <source>Draw a polygon to select cameras</source>
        <translation>다각형을 그려 카메라 선택</translation>
    </message>
    <message>
        <source>Clear the drawn area</source>
        <translation>그린 영역 지우기</translation>
    </message>
    <message>
        <source>Press and drag to draw a circle. Esc cancels.</source>
        <translation>누른 채로 끌어 원을 그리세요. Esc로 취소합니다.</translation>
    </message>
    <message>
        <source>Click to add corners, double-click to finish. Esc cancels.</source>
        <translation>클릭해 꼭짓점을 추가하고, 두 번 클릭해 마칩니다. Esc로 취소합니다.</translation>
    </message>
    <message>
        <source>approximate position (not used as nearest camera)</source>
        <translation>대략적 위치 (최근접 카메라로 쓰지 않음)</translation>
    </message>
    <message>
        <source>City map (offline)</source>
        <translation>도시 지도 (오프라인)</translation>
    </message>
    <message>
        <source>Basemap</source>
        <translation>배경지도</translation>
    </message>
    <message>
        <source>119 facilities</source>
        <translation>119 대상 시설</translation>
    </message>
    <message>
        <source>Dispatched units</source>
        <translation>출동 단위</translation>
    </message>
    <message>
        <source>Access</source>
        <translation>진입</translation>
    </message>
    <message>
        <source>Hazardous materials</source>
        <translation>위험물</translation>
    </message>
    <message>
        <source>Hospital</source>
        <translation>병원</translation>
    </message>
    <message>
        <source>Shelter</source>
        <translation>대피소</translation>
    </message>
    <message>
        <source>Hydrant</source>
        <translation>소화전</translation>
    </message>
    <message>
        <source>Other facility</source>
        <translation>기타 시설</translation>
    </message>
    <message>
        <source>112 emergency video</source>
        <translation>112 긴급영상 지원</translation>
    </message>
    <message>
        <source>112 dispatch</source>
        <translation>112 긴급출동 지원</translation>
    </message>
    <message>
        <source>119 dispatch</source>
        <translation>119 긴급출동 지원</translation>
    </message>
    <message>
        <source>Disaster response</source>
        <translation>재난상황 긴급대응</translation>
    </message>
    <message>
        <source>Vulnerable person SOS</source>
        <translation>사회적 약자 긴급지원</translation>
    </message>
    <message>
        <source>Crime prevention</source>
        <translation>방범</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>교통</translation>
    </message>
    <message>
        <source>Disaster watch</source>
        <translation>재난 감시</translation>
    </message>
    <message>
        <source>Child protection</source>
        <translation>어린이 보호</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>기타</translation>
    </message>
</context>
<context>
    <name>ProvisionPanel</name>
    <message>
        <source>Select a waiting share first.</source>
        <translation>대기 중인 제공을 먼저 선택하세요.</translation>
    </message>
    <message>
        <source>A rejection needs a reason.</source>
        <translation>반려에는 사유가 필요합니다.</translation>
    </message>
    <message>
        <source>Decision recorded.</source>
        <translation>결정을 기록했습니다.</translation>
    </message>
    <message>
        <source>Share</source>
        <translation>제공</translation>
    </message>
    <message>
        <source>Extension</source>
        <translation>연장</translation>
    </message>
    <message>
        <source>Over-cap request</source>
        <translation>한도 초과 요청</translation>
    </message>
    <message numerus="yes">
        <source>%n share(s) waiting for a decision</source>
        <translation>
            <numerusform>결정을 기다리는 제공 %n건</numerusform>
        </translation>
    </message>
    <message>
        <source>Nothing waiting</source>
        <translation>대기 중인 항목 없음</translation>
    </message>
    <message>
        <source>Approvals</source>
        <translation>승인</translation>
    </message>
    <message>
        <source>Provision</source>
        <translation>영상 제공</translation>
    </message>
    <message>
        <source>Reason (required to reject)</source>
        <translation>사유 (반려 시 필수)</translation>
    </message>
    <message>
        <source>Approve</source>
        <translation>승인</translation>
    </message>
    <message>
        <source>Confirm</source>
        <translation>확인</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>반려</translation>
    </message>
    <message>
        <source>Asked</source>
        <translation>요청 시각</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>제공받는 자</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>카메라</translation>
    </message>
    <message>
        <source>Minutes</source>
        <translation>분</translation>
    </message>
    <message>
        <source>Legal basis</source>
        <translation>법적 근거</translation>
    </message>
    <message>
        <source>Purpose or reason</source>
        <translation>목적 또는 사유</translation>
    </message>
    <message>
        <source>Asked by</source>
        <translation>요청자</translation>
    </message>
    <message>
        <source>Ledger</source>
        <translation>관리대장</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>새로 고침</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>일자</translation>
    </message>
    <message>
        <source>Purpose</source>
        <translation>목적</translation>
    </message>
    <message>
        <source>Period</source>
        <translation>기간</translation>
    </message>
    <message>
        <source>Form</source>
        <translation>형태</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Approver</source>
        <translation>승인자</translation>
    </message>
    <message>
        <source>Viewings / time</source>
        <translation>열람 횟수 / 시간</translation>
    </message>
</context>
<context>
    <name>QueuePanel</name>
    <message>
        <source>NEW EMERGENCY: {title}</source>
        <translation>신규 긴급 사건: {title}</translation>
    </message>
    <message>
        <source>Jump to it ({key})</source>
        <translation>바로 가기 ({key})</translation>
    </message>
    <message numerus="yes">
        <source>%n open</source>
        <translation>
            <numerusform>미결 %n건</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n overdue</source>
        <translation>
            <numerusform>초과 %n건</numerusform>
        </translation>
    </message>
    <message>
        <source>OVERDUE {over}</source>
        <translation>초과 {over}</translation>
    </message>
    <message>
        <source>met ({left} left)</source>
        <translation>준수 ({left} 남음)</translation>
    </message>
    <message>
        <source>Service:</source>
        <translation>서비스:</translation>
    </message>
    <message>
        <source>All services</source>
        <translation>전체 서비스</translation>
    </message>
    <message>
        <source>Open incidents by priority, then age. Enter opens one.</source>
        <translation>미결 사건을 우선순위, 경과 시간 순으로 표시합니다. Enter로 엽니다.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>XYZ tile server (URL template)</source>
        <translation>XYZ 타일 서버 (URL 템플릿)</translation>
    </message>
    <message>
        <source>WMTS (REST URL template)</source>
        <translation>WMTS (REST URL 템플릿)</translation>
    </message>
    <message>
        <source>WMS</source>
        <translation>WMS</translation>
    </message>
    <message>
        <source>MBTiles file (offline)</source>
        <translation>MBTiles 파일 (오프라인)</translation>
    </message>
    <message>
        <source>PMTiles file (offline)</source>
        <translation>PMTiles 파일 (오프라인)</translation>
    </message>
    <message>
        <source>Always</source>
        <translation>항상</translation>
    </message>
    <message>
        <source>Only priority 1 and 2</source>
        <translation>우선순위 1·2만</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>사용 안 함</translation>
    </message>
    <message>
        <source>Console settings</source>
        <translation>콘솔 설정</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>추가</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>삭제</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>선택…</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>종류</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>인증키</translation>
    </message>
    <message>
        <source>WMS layers</source>
        <translation>WMS 레이어</translation>
    </message>
    <message>
        <source>File</source>
        <translation>파일</translation>
    </message>
    <message>
        <source>Attribution</source>
        <translation>저작권 표시</translation>
    </message>
    <message>
        <source>Maximum zoom of the tiles</source>
        <translation>타일 최대 확대 수준</translation>
    </message>
    <message>
        <source>Map</source>
        <translation>지도</translation>
    </message>
    <message>
        <source>Put a selected incident&apos;s cameras on the wall</source>
        <translation>선택한 사건의 카메라를 영상 벽에 띄우기</translation>
    </message>
    <message>
        <source>Key to jump to a new urgent incident</source>
        <translation>신규 긴급 사건으로 바로 가는 키</translation>
    </message>
    <message>
        <source>Golden-time countdown per service (0: the engine&apos;s)</source>
        <translation>서비스별 골든타임 (0: 엔진 설정값)</translation>
    </message>
    <message>
        <source> min</source>
        <translation>분</translation>
    </message>
    <message>
        <source>engine&apos;s</source>
        <translation>엔진 설정값</translation>
    </message>
    <message>
        <source>Incidents</source>
        <translation>사건</translation>
    </message>
    <message>
        <source>Basemap {n}</source>
        <translation>배경지도 {n}</translation>
    </message>
    <message>
        <source>Offline basemap file</source>
        <translation>오프라인 배경지도 파일</translation>
    </message>
    <message>
        <source>Tile files (*.mbtiles *.pmtiles)</source>
        <translation>타일 파일 (*.mbtiles *.pmtiles)</translation>
    </message>
    <message>
        <source>Not saved:</source>
        <translation>저장하지 않았습니다:</translation>
    </message>
    <message>
        <source>Console settings…</source>
        <translation>콘솔 설정…</translation>
    </message>
</context>
<context>
    <name>ShareDialog</name>
    <message>
        <source>There is no agency to share with.</source>
        <translation>공유할 기관이 없습니다.</translation>
    </message>
    <message>
        <source>Choose at least one camera.</source>
        <translation>카메라를 1대 이상 선택하세요.</translation>
    </message>
    <message>
        <source>State the purpose of the share (it is recorded and sent to the agency).</source>
        <translation>공유 목적을 입력하세요 (기록되며 기관에 전달됩니다).</translation>
    </message>
    <message>
        <source>Share video with an agency</source>
        <translation>기관에 영상 공유</translation>
    </message>
    <message>
        <source>Agency:</source>
        <translation>기관:</translation>
    </message>
    <message>
        <source>Cameras:</source>
        <translation>카메라:</translation>
    </message>
    <message>
        <source>Minutes:</source>
        <translation>시간(분):</translation>
    </message>
    <message>
        <source>Purpose:</source>
        <translation>목적:</translation>
    </message>
    <message>
        <source>Legal basis:</source>
        <translation>법적 근거:</translation>
    </message>
    <message>
        <source>Requesting officer:</source>
        <translation>요청 담당자:</translation>
    </message>
    <message>
        <source>Case number:</source>
        <translation>사건·문서 번호:</translation>
    </message>
    <message>
        <source>The law that allows this provision; it is recorded in the ledger</source>
        <translation>이 제공을 허용하는 법령입니다. 관리대장에 기록됩니다</translation>
    </message>
    <message>
        <source>optional, e.g. 경위 김○○</source>
        <translation>선택, 예: 경위 김○○</translation>
    </message>
    <message>
        <source>optional: the request&apos;s document or case number</source>
        <translation>선택: 요청 공문 또는 사건 번호</translation>
    </message>
    <message>
        <source>min</source>
        <translation>분</translation>
    </message>
    <message>
        <source>e.g. suspect tracking for patrol units</source>
        <translation>예: 순찰차 용의자 추적 지원</translation>
    </message>
</context>
<context>
    <name>TileSlot</name>
    <message>
        <source>Remove from wall</source>
        <extracomment>(main URL, sub URL) for a camera, or None when the console has no media access (yet).</extracomment>
        <translation>영상 벽에서 제거</translation>
    </message>
    <message>
        <source>Reconnect</source>
        <translation>다시 연결</translation>
    </message>
    <message>
        <source>Maximise / restore</source>
        <translation>최대화 / 되돌리기</translation>
    </message>
</context>
<context>
    <name>VideoTile</name>
    <message>
        <source>Video backend and stream playing on this tile</source>
        <translation>이 타일에서 재생 중인 영상 백엔드와 스트림</translation>
    </message>
    <message>
        <source>No camera</source>
        <translation>카메라 없음</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>연결 중…</translation>
    </message>
    <message>
        <source>Camera offline</source>
        <translation>카메라 오프라인</translation>
    </message>
    <message>
        <source>Cannot play this camera</source>
        <translation>이 카메라를 재생할 수 없습니다</translation>
    </message>
    <message>
        <source>Live</source>
        <translation>실시간</translation>
    </message>
    <message>
        <source>Stalled</source>
        <translation>멈춤</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>오프라인</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>오류</translation>
    </message>
    <message>
        <source>last frame {age} s ago</source>
        <translation>마지막 프레임 {age}초 전</translation>
    </message>
    <message>
        <source>retry in {secs} s</source>
        <translation>{secs}초 후 재시도</translation>
    </message>
    <message>
        <source>main</source>
        <translation>고화질</translation>
    </message>
    <message>
        <source>sub</source>
        <translation>저화질</translation>
    </message>
</context>
<context>
    <name>WallCameraCell</name>
    <message>
        <source>{name}: waiting for media access from the engine</source>
        <translation>{name}: 엔진의 영상 접근 권한을 기다리는 중</translation>
    </message>
</context>
<context>
    <name>WallControl</name>
    <message>
        <source>Incident sent to {wall}.</source>
        <translation>사건을 {wall}에 보냈습니다.</translation>
    </message>
    <message numerus="yes">
        <source>%n camera(s) of the drawn area sent to {wall}.</source>
        <translation>
            <numerusform>그린 영역의 카메라 %n대를 {wall}에 보냈습니다.</numerusform>
        </translation>
    </message>
    <message>
        <source>{wall} is back to its previous layout.</source>
        <translation>{wall}이(가) 이전 화면 구성으로 돌아갔습니다.</translation>
    </message>
    <message>
        <source>The engine is unreachable; the wall was not changed. ({detail})</source>
        <translation>엔진에 연결할 수 없어 상황판을 바꾸지 못했습니다. ({detail})</translation>
    </message>
    <message>
        <source>The session has expired; please log in again.</source>
        <translation>세션이 만료되었습니다. 다시 로그인하세요.</translation>
    </message>
    <message>
        <source>The engine refused the wall change: {detail}</source>
        <translation>엔진이 상황판 변경을 거부했습니다: {detail}</translation>
    </message>
</context>
<context>
    <name>WallControlPanel</name>
    <message>
        <source>INCIDENT</source>
        <translation>사건</translation>
    </message>
    <message>
        <source>This console&apos;s video wall</source>
        <translation>이 콘솔의 영상 벽</translation>
    </message>
    <message>
        <source>Wall: {name}</source>
        <translation>상황판: {name}</translation>
    </message>
    <message>
        <source>No video wall to send to: the engine knows no wall yet.</source>
        <translation>보낼 상황판이 없습니다: 엔진에 등록된 상황판이 아직 없습니다.</translation>
    </message>
    <message>
        <source>Give the preset a name first.</source>
        <translation>먼저 프리셋 이름을 입력하세요.</translation>
    </message>
    <message>
        <source>Preset “{name}” saved.</source>
        <translation>프리셋 “{name}”을(를) 저장했습니다.</translation>
    </message>
    <message>
        <source>Video walls</source>
        <translation>상황판</translation>
    </message>
    <message>
        <source>No video wall yet. A wall appears here once a console has given it a layout.</source>
        <translation>상황판이 아직 없습니다. 콘솔에서 화면 구성을 지정하면 여기에 나타납니다.</translation>
    </message>
    <message>
        <source>Grid:</source>
        <translation>분할:</translation>
    </message>
    <message numerus="yes">
        <source>%n tile(s)</source>
        <translation>
            <numerusform>타일 %n개</numerusform>
        </translation>
    </message>
    <message>
        <source>Send incident to wall</source>
        <translation>사건을 상황판으로</translation>
    </message>
    <message>
        <source>The incident&apos;s cameras and the map on the selected wall</source>
        <translation>선택한 상황판에 사건의 카메라와 지도를 띄웁니다</translation>
    </message>
    <message>
        <source>Release</source>
        <translation>해제</translation>
    </message>
    <message>
        <source>Back to the layout the wall showed before</source>
        <translation>상황판을 이전 화면 구성으로 되돌립니다</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>적용</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>삭제</translation>
    </message>
    <message>
        <source>Preset name</source>
        <translation>프리셋 이름</translation>
    </message>
    <message>
        <source>Save layout</source>
        <translation>화면 구성 저장</translation>
    </message>
    <message>
        <source>Drawn area to:</source>
        <translation>그린 영역 보낼 곳:</translation>
    </message>
    <message>
        <source>Where the cameras of an area drawn on the map go: this console&apos;s video wall or a wall</source>
        <translation>지도에 그린 영역의 카메라를 보낼 곳: 이 콘솔의 영상 벽 또는 상황판</translation>
    </message>
</context>
<context>
    <name>WallMapCell</name>
    <message>
        <source>Map loading…</source>
        <translation>지도 불러오는 중…</translation>
    </message>
</context>
<context>
    <name>WallPanel</name>
    <message>
        <source>{name}: no media access from the engine</source>
        <translation>{name}: 엔진에서 영상 접근 권한을 받지 못했습니다</translation>
    </message>
    <message>
        <source>Layout:</source>
        <translation>분할:</translation>
    </message>
    <message>
        <source>Drag cameras onto tiles · double-click to maximise · Esc to restore</source>
        <translation>카메라를 타일로 끌어 놓기 · 두 번 클릭해 최대화 · Esc로 되돌리기</translation>
    </message>
    <message>
        <source>Clear wall</source>
        <translation>영상 벽 비우기</translation>
    </message>
    <message numerus="yes">
        <source>%n tile(s)</source>
        <translation>
            <numerusform>타일 %n개</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>WallWindow</name>
    <message>
        <source>No camera</source>
        <translation>카메라 없음</translation>
    </message>
    <message>
        <source>INCIDENT</source>
        <translation>사건</translation>
    </message>
    <message>
        <source>Connecting to the engine…</source>
        <translation>엔진에 연결하는 중…</translation>
    </message>
    <message>
        <source>Engine unreachable, retrying…</source>
        <translation>엔진에 연결할 수 없어 다시 시도하는 중…</translation>
    </message>
    <message>
        <source>Session expired, logging in again…</source>
        <translation>세션이 만료되어 다시 로그인하는 중…</translation>
    </message>
    <message>
        <source>The engine refused the wall key; retrying</source>
        <translation>엔진이 상황판 키를 거부했습니다. 재시도 중</translation>
    </message>
    <message>
        <source>No wall key configured (walls add, then --key-file)</source>
        <translation>상황판 키가 설정되지 않았습니다 (walls add 후 --key-file)</translation>
    </message>
    <message>
        <source>Waiting for a layout for wall {id}.
Send cameras or an incident to this wall from an operator console.</source>
        <translation>상황판 {id}의 화면 구성을 기다리는 중입니다.
관제 콘솔에서 이 상황판으로 카메라나 사건을 보내세요.</translation>
    </message>
    <message>
        <source>Wall {id}: connecting to the engine…</source>
        <translation>상황판 {id}: 엔진에 연결하는 중…</translation>
    </message>
</context>
<context>
    <name>_MiniCell</name>
    <message>
        <source>Remove from the wall</source>
        <translation>상황판에서 제거</translation>
    </message>
</context>
<context>
    <name>_WallCard</name>
    <message>
        <source>Map</source>
        <translation>지도</translation>
    </message>
    <message>
        <source>The map of the incident</source>
        <translation>사건 지도</translation>
    </message>
    <message>
        <source>Drop a camera here</source>
        <translation>여기에 카메라를 놓으세요</translation>
    </message>
</context>
<context>
    <name>panel</name>
    <message>
        <source>Could not write {path}: {error}</source>
        <translation>{path}에 쓸 수 없습니다: {error}</translation>
    </message>
    <message>
        <source>Select an incident first: the circle is drawn around it.</source>
        <translation>먼저 사건을 선택하세요: 그 사건을 중심으로 원을 그립니다.</translation>
    </message>
    <message>
        <source>The map is not ready yet: search again in a moment.</source>
        <translation>지도가 아직 준비되지 않았습니다: 잠시 후 다시 검색하세요.</translation>
    </message>
</context>
</TS>
