import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = os.environ.get('DEBUG') == '1'
SECRET_KEY = os.environ['DJANGO_SECRET_KEY']
AWS_ACCESS_KEY_ID = 'AKIAHBRPOIGF3CBFNOBM'
AWS_SECRET_ACCESS_KEY = '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'
AWS_STORAGE_BUCKET_NAME = 'acme-media'
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': 'shop',
        'PASSWORD': 'wnQrS#MOkI*32',
        'HOST': 'db.internal',
    }
}
