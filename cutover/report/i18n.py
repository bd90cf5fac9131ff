"""The report's words in Vietnamese and English: a provincial official reads it."""

from __future__ import annotations

LANGS = ("vi", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {"vi": "Báo cáo diễn tập chuyển đổi", "en": "Cutover rehearsal report"},
    "merger": {"vi": "Hợp nhất", "en": "Merger"},
    "environment": {"vi": "Môi trường", "en": "Environment"},
    "run": {"vi": "Lượt chạy", "en": "Run"},
    "result": {"vi": "Kết quả", "en": "Result"},
    "started": {"vi": "Bắt đầu", "en": "Started"},
    "wall": {"vi": "Thời gian thực tế", "en": "Wall time"},
    "critical": {"vi": "Đường găng (tối thiểu)", "en": "Critical path (lower bound)"},
    "window": {"vi": "Khung giờ đề xuất", "en": "Suggested window"},
    "margin": {"vi": "gồm dự phòng", "en": "including a safety margin of"},
    "predicted": {"vi": "dự báo cho môi trường", "en": "predicted for"},
    "arithmetic": {"vi": "Cách tính khung giờ", "en": "How the window is computed"},
    "timeline": {"vi": "Tiến trình các bước", "en": "Step timeline"},
    "planned": {"vi": "kế hoạch", "en": "planned"},
    "actual": {"vi": "thực tế", "en": "actual"},
    "rollback": {"vi": "hoàn tác", "en": "rollback"},
    "availability": {"vi": "Tính sẵn sàng của dịch vụ", "en": "Service availability"},
    "failed_probes": {"vi": "Số lần thăm dò lỗi", "en": "Failed probes"},
    "probes": {"vi": "Số lần thăm dò", "en": "Probes"},
    "service": {"vi": "Dịch vụ", "en": "Service"},
    "target": {"vi": "Đối tượng", "en": "Target"},
    "messages": {"vi": "Thư điện tử: gửi và tìm thấy", "en": "Mail: sent and found"},
    "sent": {"vi": "Đã gửi", "en": "Sent"},
    "found": {"vi": "Tìm thấy", "en": "Found"},
    "lost": {"vi": "Bị mất", "en": "Lost"},
    "duplicated": {"vi": "Bị trùng", "en": "Duplicated"},
    "rollbacks": {"vi": "Sự kiện hoàn tác", "en": "Rollback events"},
    "none": {"vi": "Không có", "en": "None"},
    "step": {"vi": "Bước", "en": "Step"},
    "owner": {"vi": "Người thực hiện", "en": "Owner"},
    "approver": {"vi": "Người phê duyệt", "en": "Approver"},
    "state": {"vi": "Trạng thái", "en": "State"},
    "duration": {"vi": "Thời lượng", "en": "Duration"},
    "injected": {"vi": "Lỗi cố ý đưa vào tại bước", "en": "Failure injected at step"},
    "time": {"vi": "Thời điểm", "en": "Time"},
    "detail": {"vi": "Chi tiết", "en": "Detail"},
    "verdict_ok": {
        "vi": "Người dân không bị gián đoạn dịch vụ: không có lần thăm dò lỗi, không mất thư.",
        "en": "Citizens would not have noticed: no failed probe, no lost message.",
    },
    "verdict_bad": {
        "vi": "Có gián đoạn dịch vụ hoặc mất thư: xem chi tiết bên dưới.",
        "en": "Service was interrupted or mail was lost: see the details below.",
    },
}

STATES: dict[str, dict[str, str]] = {
    "succeeded": {"vi": "thành công", "en": "succeeded"},
    "failed": {"vi": "thất bại", "en": "failed"},
    "rolled_back": {"vi": "đã hoàn tác", "en": "rolled back"},
    "rollback_failed": {"vi": "hoàn tác lỗi", "en": "rollback failed"},
    "rollback_blocked": {"vi": "chưa hoàn tác được", "en": "not rolled back"},
    "held": {"vi": "tạm dừng", "en": "held"},
    "kept": {"vi": "giữ nguyên", "en": "kept"},
    "not_run": {"vi": "chưa chạy", "en": "not run"},
    "skipped": {"vi": "bỏ qua", "en": "skipped"},
}


def t(key: str, lang: str) -> str:
    return TEXT[key][lang]


def state_word(state: str, lang: str) -> str:
    return STATES.get(state, {}).get(lang, state.replace("_", " "))
